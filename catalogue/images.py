"""Place images: checks on upload, and the resized copies made once and served."""


class PlaceImageFormMixin:
    """Image checks for the place form in the admin (mixed into its ModelForm)."""
