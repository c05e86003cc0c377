# shellcheck shell=bash
# The environment in which the book's stored outputs are reproduced digit for digit. Sourced by
# scripts/test.sh; source it yourself before re-executing a chapter (README, "Editing a chapter"):
#     source scripts/reproducible-env.sh
#
# One BLAS thread (a fixed summation order) and a fixed hash seed.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONHASHSEED=0
# NumPy and OpenBLAS choose their machine code by the CPU they find at run time, and the choices
# round differently in the last bit: on a CPU with AVX-512, NumPy's AVX-512 loops (exp, log, ...)
# changed 17 of the book's 160 checked cells against outputs stored on an AVX2 machine (EM fits
# that run off, or that have several maxima, carry a last bit into a printed digit). Both are
# pinned to the AVX2 code paths, which every x86-64 CPU of the last decade has: NumPy's AVX-512
# loops are switched off (the names are NumPy 2.4's and, for older NumPy, those before it;
# NumPy ignores names it does not know and features the CPU lacks), and OpenBLAS uses its Haswell
# kernels (AVX2 and FMA) where the CPU has both. Other CPUs (ARM, say) may differ in a digit.
export NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=Haswell
fi
# MPLBACKEND is left UNSET on purpose: the notebook kernels that nbval starts inherit this
# environment, and ipykernel selects its inline backend (which puts figures into the cell
# outputs) only when MPLBACKEND is unset. With MPLBACKEND=Agg every figure disappears from the
# fresh outputs and nbval fails on each plotting cell. The Python tests get the non-GUI Agg
# backend anyway on a machine without a display (matplotlib's fallback).
unset MPLBACKEND
# Use the platform's standard directories (silences a jupyter_core deprecation warning).
export JUPYTER_PLATFORM_DIRS=1
