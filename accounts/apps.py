from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Organizations and access"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.contrib.sessions.models import Session
        from django.db.models.signals import post_delete, post_init, post_save

        from accounts import revocation

        # Open sockets lose their rights with the user's (accounts/sockets.py).
        user = get_user_model()
        post_init.connect(revocation.user_loaded, sender=user, dispatch_uid="accounts.access.loaded")
        post_save.connect(revocation.user_saved, sender=user, dispatch_uid="accounts.access.saved")
        post_delete.connect(revocation.user_deleted, sender=user, dispatch_uid="accounts.access.deleted")
        user_logged_out.connect(revocation.user_logged_out, dispatch_uid="accounts.access.logged_out")
        post_delete.connect(revocation.session_deleted, sender=Session, dispatch_uid="accounts.access.session")
