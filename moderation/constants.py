REASON_CODES: dict[str, str] = {
    "spam": "Spam",
    "duplicate": "Duplicate of an existing place",
    "inaccurate": "Inaccurate or misplaced",
    "inappropriate": "Inappropriate content",
    "privacy": "Privacy concern",
    "other": "Other",
}
REASON_CODE_CHOICES = list(REASON_CODES.items())
# ModerationLog.reason's max_length.
REASON_MAX_LENGTH = 2000
