"""Output helpers shared by the import and export commands."""


class NoNewlineWriter:
    """Django's OutputWrapper appends a newline to every write; tqdm progress bars and
    raw export chunks bring their own line endings."""

    def __init__(self, wrapper):
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")

    def flush(self) -> None:
        self._wrapper.flush()
