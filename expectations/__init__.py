"""Great Expectations suites as data (suites/*.json) and the runner that applies them."""
