"""Points per exercise, by the exercise's label: the one place the nbgrader assignments
(:mod:`.assign`) and the book's page for instructors read them from.

An exercise with a ``check_*()`` grader cell is graded automatically: its points are the grader
cell's. Any other exercise is a written answer, graded by hand against the book's solution.
``tests/book/test_points.py`` fails when a chapter's exercise has no points here, when a label
here matches no exercise, and when an exercise has solution code but no grader without being
listed in :data:`GRADED_BY_HAND`.

The scale: writing a module that the grader compares with the library's is 4 points, a short
function 2, a written answer (a derivation, a count, a "why", a run to compare) 2.
"""

from __future__ import annotations

POINTS: dict[str, int] = {
    # chapters/baseline.ipynb
    "ex-baseline-1": 2,  # parameters of a block, by hand
    "ex-baseline-2": 4,  # MyBlock, check_basic_block
    "ex-baseline-3": 2,  # label smoothing off: what changes
    # chapters/explorers.ipynb
    "ex-explorers-1": 2,  # se_params, check_param_formula
    "ex-explorers-2": 2,  # the smallest reduction under 1 %
    # chapters/spatial/self_attention.ipynb
    "ex-sa-1": 4,  # MySelfAttention, check_self_attention
    "ex-sa-2": 2,  # memory of the attention weights
    "ex-sa-3": 2,  # stage 3 only: cost and accuracy
    "ex-sa-4": 2,  # the paper's h then v against one value convolution
    # chapters/spatial/non_local.ipynb
    "ex-nl-1": 4,  # MyNonLocal, check_non_local
    "ex-nl-2": 2,  # MACs of the two orders
    "ex-nl-3": 2,  # sub-sampling
    "ex-nl-4": 2,  # all four pairwise functions against the seed noise
    "ex-nl-5": 2,  # the canvas experiment on the non-local block
    # chapters/spatial/spatial_transformer.ipynb
    "ex-stn-1": 2,  # two thetas, checked in the answer's own code
    "ex-stn-2": 4,  # MySTN, check_stn
    "ex-stn-3": 2,  # why start at the identity
    # chapters/channel/se.ipynb
    "ex-se-1": 4,  # MySE, check_se
    "ex-se-2": 2,  # SE's parameters in ResNet-18
    "ex-se-3": 2,  # why a gate in (0, 1) does not weaken the network
    # chapters/channel/sk.ipynb
    "ex-sk-1": 2,  # groups, d and parameters at C = 96
    "ex-sk-2": 4,  # MySK, check_sk
    "ex-sk-3": 2,  # why a softmax over the branches
    "ex-sk-4": 2,  # SK on rescaled images: does the receptive field follow size?
    # chapters/channel/eca.ipynb
    "ex-eca-1": 2,  # the kernel size rule
    "ex-eca-2": 4,  # MyECA, check_eca
    "ex-eca-3": 2,  # ECA's and SE's parameters
    # chapters/mixed/cbam.ipynb
    "ex-cbam-1": 4,  # MyCBAM, check_cbam
    "ex-cbam-2": 2,  # CBAM's parameters in ResNet-18
    "ex-cbam-3": 2,  # why the maximum as well as the average
    # chapters/mixed/danet.ipynb
    "ex-danet-1": 4,  # MyDANet, check_danet
    "ex-danet-2": 2,  # memory of the position attention
    "ex-danet-3": 2,  # the paper's softmax(E)
    # chapters/mixed/ccnet.ipynb
    "ex-ccnet-1": 4,  # MyCCNet, check_ccnet
    "ex-ccnet-2": 2,  # rows only: how many passes
    "ex-ccnet-3": 2,  # full against criss-cross attention sizes
    # chapters/mixed/residual_attention.ipynb
    "ex-residual-attention-1": 4,  # MyRA, check_residual_attention
    "ex-residual-attention-2": 2,  # a control run for the mask
    "ex-residual-attention-3": 2,  # M * T against (1 + M) * T
    "ex-residual-attention-4": 2,  # the canvas experiment on the masks
    # chapters/mixed/coordinate_attention.ipynb
    "ex-coordinate-attention-1": 4,  # MyCoordinateAttention, check_coordinate_attention
    "ex-coordinate-attention-2": 2,  # on a 1x1 map
    "ex-coordinate-attention-3": 2,  # two opposite corners
    # chapters/benchmark.ipynb
    "ex-bench-1": 2,  # best_five, check_top5_mean
    "ex-bench-2": 2,  # how many seeds
    "ex-bench-3": 2,  # register a variant and sweep it
}

# Exercises whose solution includes code but no check_*() grader: the code computes or checks
# what the written answer needs, and a person grades the answer.
GRADED_BY_HAND: frozenset[str] = frozenset(
    {"ex-explorers-2", "ex-stn-1", "ex-cbam-2", "ex-danet-3"}
)
