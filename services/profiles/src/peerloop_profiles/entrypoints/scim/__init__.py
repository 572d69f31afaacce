"""SCIM 2.0 provisioning (RFC 7643/7644) at `/scim/v2`: users are people, groups are teams.

The protocol (validation, PATCH, filters, ETags, errors) is scim2-server's, over the
scim2-models resources; `storage.py` connects it to the provisioning use cases.
"""
