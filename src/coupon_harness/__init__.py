"""coupon-harness: contract and load tests for Capillary's POST /v2/coupon/bulk/issue."""

__version__ = "0.2.0"
ENDPOINT = "/v2/coupon/bulk/issue"

__all__ = ["ENDPOINT", "__version__"]
