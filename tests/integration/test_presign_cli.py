"""`imgsvc presign`: the AWS documentation's own presigned-URL example reproduced byte for
byte, and the command's refusals."""
import unittest

from harness import require_bin, run_cli

AWS_DOC = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "IMGSVC_S3_ENDPOINT": "https://s3.amazonaws.com", "IMGSVC_S3_ADDRESSING": "virtual",
           "IMGSVC_S3_BUCKET": "examplebucket", "AWS_REGION": "us-east-1"}


class PresignCli(unittest.TestCase):
    def setUp(self):
        require_bin(self)

    def test_aws_documented_example(self):
        # "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", S3 docs
        rc, out, err = run_cli("presign", "--method", "GET", "--key", "test.txt", "--at",
                               "20130524T000000Z", "--expires", "86400", env=AWS_DOC)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, (
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            "\n"))
        self.assertEqual(err, "")

    def test_path_style_put_with_content_type_is_deterministic(self):
        env = dict(AWS_DOC, IMGSVC_S3_ADDRESSING="path", IMGSVC_S3_ENDPOINT="http://127.0.0.1:7480")
        args = ("presign", "--method", "PUT", "--key", "delete/feed/1/a b+c.jpeg",
                "--content-type", "image/jpeg", "--at", "20261124T000000Z")
        rc1, out1, _ = run_cli(*args, env=env)
        rc2, out2, _ = run_cli(*args, env=env)
        self.assertEqual((rc1, rc2), (0, 0))
        self.assertEqual(out1, out2)
        self.assertTrue(out1.startswith(
            "http://127.0.0.1:7480/examplebucket/delete/feed/1/a%20b%2Bc.jpeg?"))
        self.assertIn("X-Amz-SignedHeaders=content-type%3Bhost", out1)
        self.assertIn("X-Amz-Expires=600", out1)

    def test_refusals(self):
        for args, want in (
            (("--method", "POST", "--key", "k"), "--method must be PUT or GET"),
            (("--key", "k"), "--method and --key are required"),
            (("--method", "GET", "--key", "k", "--expires", "604801"), "--expires must be"),
            (("--method", "GET", "--key", "k", "--expires", "0"), "--expires must be"),
            (("--method", "GET", "--key", "k", "--at", "2013-05-24"), "--at must be"),
            (("--method", "GET", "--key"), "needs a value"),
            (("--method", "GET", "--key", "k", "--bogus", "1"), "unknown option"),
        ):
            rc, out, err = run_cli("presign", *args, env=AWS_DOC)
            self.assertEqual(rc, 2, args)
            self.assertIn(want, err)
            self.assertEqual(out, "")

    def test_missing_credentials(self):
        rc, out, err = run_cli("presign", "--method", "GET", "--key", "k",
                               env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                    "IMGSVC_S3_ENDPOINT": "https://s3.amazonaws.com",
                                    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
        self.assertEqual(rc, 1)
        self.assertIn("no S3 credentials", err)

    def test_credentials_from_the_shared_file_and_profile(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
            f.write("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = x\n"
                    "[photos]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
            f.flush()
            env = dict(AWS_DOC, AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="",
                       AWS_SHARED_CREDENTIALS_FILE=f.name, AWS_PROFILE="photos")
            rc, out, err = run_cli("presign", "--method", "GET", "--key", "test.txt", "--at",
                                   "20130524T000000Z", "--expires", "86400", env=env)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.strip().endswith(
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))


if __name__ == "__main__":
    unittest.main()
