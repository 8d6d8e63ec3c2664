"""People who use Wangge: users, roles, devices and their API tokens."""
