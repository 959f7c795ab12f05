#!/usr/bin/env python3
"""Verifies webhook deliveries as a customer's receiver would, with the `standardwebhooks`
package from PyPI (nothing of ours): reads a JSON file of
`[{"secret": "whsec_...", "headers": {...}, "body": "..."}]` and checks each signature.
Exit 0 when every one verifies, 1 (naming the first that does not) otherwise."""

import json
import sys

from standardwebhooks.webhooks import Webhook


def main(path):
    deliveries = json.load(open(path))
    for i, d in enumerate(deliveries):
        try:
            Webhook(d["secret"]).verify(d["body"], d["headers"])
        except Exception as e:  # the package raises WebhookVerificationError
            print(f"delivery {i} ({d['headers'].get('webhook-id')}): {e}")
            return 1
    print(f"{len(deliveries)} deliveries verified")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
