from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Every app registers its own GDPR export and erasure (accounts.gdpr); accounts
        # imports none of them, it only loads their `gdpr` modules by name.
        autodiscover_modules("gdpr")
