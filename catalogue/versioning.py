"""A token that changes whenever catalogue data changes, to key what is derived from it.

It lives in the database, so every web process sees the same one. A new token is random
rather than the next number: if the transaction that changed it rolls back, the token
goes back to one that only ever described committed data.
"""

import secrets


def data_version():
    from .models import DataVersion

    return DataVersion.objects.values_list("token", flat=True).first() or 0


def bump(**kwargs):
    from .models import DataVersion

    token = secrets.randbits(62)
    if not DataVersion.objects.filter(pk=1).update(token=token):
        DataVersion.objects.update_or_create(pk=1, defaults={"token": token})
