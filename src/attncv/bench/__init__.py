"""The benchmark layer, ``python -m attncv.bench`` (:mod:`.__main__`): module costs
(:mod:`.modules`), fused against reference attention (:mod:`.paths`), the comparison with timm
(:mod:`.timm`), the accuracy sweep (:mod:`.sweep`; on Ray beyond one device: :mod:`.devices`,
:mod:`.cluster`) and the committed table the benchmark chapter shows (:mod:`.committed`), its
report, statistics and figures (:mod:`.report`, :mod:`.stats`, :mod:`.figures`) and provenance
(:mod:`.provenance`)."""

from .modules import compare_modules
from .paths import compare_paths

__all__ = ["compare_modules", "compare_paths"]
