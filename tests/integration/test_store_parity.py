"""Parity: one table of presigned-URL tamper cases runs against the embedded store and Ceph RGW
(scripts/rgw.sh, fixture "rgw"); both must make the same accept/refuse decision for each case,
and that decision must be the one AWS S3 makes.

Ceph RGW 16.2 (Debian bookworm) is laxer than AWS in four cases, listed in RGW_LAX with what it
does; there the store keeps AWS's decision and the test checks that RGW still behaves as
recorded (so a fixed RGW shows up as a failure to update the table)."""
# ctest-fixtures: rgw
import datetime
import unittest
import uuid

from harness import require_bin
from storelib import (AK, BUCKET, REGION, RGW_AK, RGW_BUCKET, RGW_HOST, RGW_SK, SK, presign, raw,
                      start_store)

NOW = datetime.datetime.now(datetime.timezone.utc)
BODY = b"parity-body"


def flip(sig_url):
    """The URL with the signature's last hex digit changed."""
    last = sig_url[-1]
    return sig_url[:-1] + ("0" if last != "0" else "1")


# name, method to send, presign overrides, how the request is changed, expected accept
# Each case presigns a PUT (content-type signed) unless `sign_method` says otherwise.
CASES = [
    ("valid_put", {}, None, True),
    ("valid_put_unsigned_ordinary_header", {}, "extra_plain_header", True),
    ("changed_signature", {}, "flip_signature", False),
    ("changed_key", {}, "other_key", False),
    ("changed_method", {}, "method_delete", False),
    ("expired", {"when": NOW - datetime.timedelta(hours=2), "expires": 60}, None, False),
    ("changed_content_type", {}, "content_type_png", False),
    ("changed_signed_length", {"length": True}, "longer_body", False),
    ("extra_unsigned_amz_header", {}, "extra_amz_header", False),
    ("expires_zero", {"expires_text": "0"}, None, False),
    ("expires_over_7_days", {"expires_text": "604801"}, None, False),
    ("expires_not_a_number", {"expires_text": "ten"}, None, False),
    ("credential_other_region", {"scope_region": "eu-west-1"}, None, False),
    ("credential_other_date", {"scope_date": (NOW - datetime.timedelta(days=2))
                               .strftime("%Y%m%d")}, None, False),
    ("future_date", {"when": NOW + datetime.timedelta(hours=1)}, None, False),
]


# Cases where RGW 16.2 accepts what AWS S3 refuses (observed; AWS's answer in the comment).
RGW_LAX = {
    "extra_unsigned_amz_header": True,  # AWS: 403 AccessDenied, headers present not signed
    "credential_other_region": True,    # AWS: 400 AuthorizationQueryParametersError (region)
    "credential_other_date": True,      # AWS: 400 AuthorizationQueryParametersError (date)
    "future_date": True,                # AWS: 403 AccessDenied, request is not valid yet
}


def run_case(host, bucket, ak, sk, overrides, change):
    key = f"parity/{uuid.uuid4().hex}.jpeg"
    o = dict(overrides)
    headers = {"content-type": "image/jpeg"}
    if o.pop("length", False):
        headers["content-length"] = str(len(BODY))
    url = presign("PUT", host, bucket, key, ak, sk, region=REGION, headers=headers, **o)
    method, body, send = "PUT", BODY, dict(headers)
    if change == "flip_signature":
        url = flip(url)
    elif change == "other_key":
        url = url.replace(key, key.replace(".jpeg", "-other.jpeg"))
    elif change == "method_delete":
        method, body = "DELETE", None
    elif change == "content_type_png":
        send["content-type"] = "image/png"
    elif change == "longer_body":
        body = BODY + b"!"
        send["content-length"] = str(len(body))
    elif change == "extra_amz_header":
        send["x-amz-meta-extra"] = "1"
    elif change == "extra_plain_header":
        send["x-custom-header"] = "1"
    status, _, data = raw(method, url, body=body, headers=send)
    return status, data


class Parity(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.srv = start_store()

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def test_presigned_tamper_table_same_decision_as_rgw(self):
        host = f"127.0.0.1:{self.srv.store_port}"
        rows = []
        for name, overrides, change, expect in CASES:
            ours = run_case(host, BUCKET, AK, SK, overrides, change)
            rgw = run_case(RGW_HOST, RGW_BUCKET, RGW_AK, RGW_SK, overrides, change)
            rows.append((name, expect, ours[0], rgw[0]))
        report = "\n".join(f"{n:40} expect={'accept' if e else 'refuse'} store={o} rgw={r}"
                           for n, e, o, r in rows)
        same = sum(1 for n, e, o, r in rows if (o < 300) == (r < 300))
        self.assertEqual(same, len(rows) - len(RGW_LAX), report)
        for name, expect, ours, rgw in rows:
            self.assertEqual(ours < 300, expect, f"store on {name}\n{report}")
            self.assertEqual(rgw < 300, RGW_LAX.get(name, expect), f"rgw on {name}\n{report}")
            if not expect:
                self.assertIn(ours, (400, 403), f"store on {name}\n{report}")
        print(report)


if __name__ == "__main__":
    unittest.main()
