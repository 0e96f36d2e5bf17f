"""The load runner: Locust scenarios whose every response is checked against the contract."""
