"""The build pipeline. Importing it first fixes the BLAS kernel (pipeline/numerics.py) before numpy loads."""

from pipeline.numerics import pin_blas_kernel

pin_blas_kernel()
