"""The AWS CDK app that deploys the inventory API: one stack (stack.py) of a few constructs, configured per
environment by config.py, selected with ``-c env=dev|prod``."""
