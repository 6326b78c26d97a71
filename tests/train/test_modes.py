"""The non-local chapter's comparison of pairwise functions, trained (attncv.train.modes),
and its table (attncv.views.non_local)."""

from __future__ import annotations

import pytest

from attncv.data import synthetic
from attncv.train.modes import train_modes
from attncv.views.non_local import modes_table


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=2, test_per_class=4)


@pytest.mark.slow
def test_train_modes_and_their_table(data, capsys) -> None:
    from attncv.train import get_profile

    prof = get_profile("smoke", "cpu")
    runs = train_modes(data, prof, ("embedded_gaussian", "dot_product"), progress=False)
    assert list(runs) == ["embedded_gaussian", "dot_product"]
    assert runs["dot_product"][0].layer2[0].after.mode == "dot_product"
    assert runs["dot_product"][1].name == "non_local (dot product)"
    assert any(k.startswith("W_z scale") for k in runs["dot_product"][1].history[0])
    again = train_modes(data, prof, ("embedded_gaussian",), progress=False)  # from the cache
    assert "loaded from the runs cache" in capsys.readouterr().out
    assert again["embedded_gaussian"][1].history == runs["embedded_gaussian"][1].history
    table = modes_table(runs, data)
    text = str(table)
    assert "embedded gaussian" in text and "dot product" in text and "nan" not in text
    assert table.rows[1][4:] == ["–", "–"]  # dot-product weights are not distributions
