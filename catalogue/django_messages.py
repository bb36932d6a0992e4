"""Django's own messages that an installed library translates differently.

Apps' translations take precedence over Django's base catalogue, and the API framework
ships its own French for a few of Django's form messages (« adresse e-mail »). Listing them
here puts them in our catalogue, which wins, with Django's French wording.
"""

from django.utils.translation import gettext_noop

DJANGO_WORDING = [
    gettext_noop("Enter a valid email address."),
    gettext_noop("No file was submitted."),
    gettext_noop("Value must be valid JSON."),
]
