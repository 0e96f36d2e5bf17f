"""coupon-harness: contract and load tests for Capillary's POST /v2/coupon/bulk/issue."""

__version__ = "0.1.0"
ENDPOINT = "/v2/coupon/bulk/issue"

__all__ = ["ENDPOINT", "__version__"]
