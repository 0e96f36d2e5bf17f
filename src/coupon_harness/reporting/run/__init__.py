"""The files `coupon-harness run` writes for both stages at once: junit.xml and report.md."""
