import shutil

import pytest

from casestudies.corpus import FIXTURES_DIR
from catalogue.models import Place

CREST = "fab-lab-crest"


@pytest.fixture
def crest(corpus):
    """The 8 FabLab at Crest, a place with a monograph, figures and lessons."""
    return Place.objects.get(slug=CREST)


@pytest.fixture
def fixtures_copy(tmp_path):
    """A copy of the corpus files that a test may change."""
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES_DIR, target)
    return target
