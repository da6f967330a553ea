"""Loaded with `-p tests.testenv` so it runs before pytest-django reads the settings.

DEBUG stays off (error pages render as in production); the live server speaks plain
HTTP, so secure-cookie and SSL-redirect settings are relaxed for the test run only, and
the web statement timeout is longer.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The test process also creates, migrates and drops the test database, which can take
# longer than a page's 5 s on a busy CI machine; tests of the timeouts set their own.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "60")
