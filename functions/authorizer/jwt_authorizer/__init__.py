"""JWT bearer-token authorizer for API Gateway REST APIs.

The modules here are plain and typed; `authorizer_handler` (the Lambda entry point) wires them up once per
cold start.
"""
