"""POST /v1/resize and POST /v1/info against the real binary over the image corpus:
dimensions per orientation and fit, output formats, facts and placeholders, every hostile file
refused with its own status and code, multipart recovery on and off, the concurrency limit's 429,
and the body cap's 413. The imaging library itself is tested in tests/imaging/."""
# ctest-fixtures: imaging_corpus
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Server, require_bin

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
ORIENT = [1, 6, 1, 6, 3, 6, 1, 8, 6, 1, 6, 1]  # photos/photo-NN.jpg, all stored 4032x3024
API_KEY = "resize-client-key-0123456789"


def corpus(*parts):
    return os.path.join(CORPUS, *parts)


def read(*parts):
    with open(corpus(*parts), "rb") as f:
        return f.read()


def magic(b):
    if b[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if b[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if b[:4] == b"RIFF" and b[8:12] == b"WEBP":
        return "webp"
    if b[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    return "unknown"


def vips_size(data):
    """(width, height) of encoded bytes, read back with vipsheader."""
    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["vipsheader", "-f", "width", f.name], capture_output=True,
                             text=True, check=True).stdout
        out2 = subprocess.run(["vipsheader", "-f", "height", f.name], capture_output=True,
                              text=True, check=True).stdout
    return int(out), int(out2)


class Resize(unittest.TestCase):
    env = {"IMGSVC_API_KEYS": API_KEY}

    def setUp(self):
        require_bin(self)
        if not os.path.isfile(corpus("MANIFEST")):
            self.skipTest(f"image corpus not found in IMGSVC_CORPUS_DIR='{CORPUS}'")
        self.assertIsNotNone(shutil.which("vipsheader"), "vipsheader (libvips-tools) missing")
        self.srv = Server(env=dict(self.env))

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def post(self, path, body, **kw):
        headers = {"X-Api-Key": API_KEY, "Content-Type": "application/octet-stream"}
        headers.update(kw.pop("headers", {}))
        return self.srv.request("POST", path, body=body, headers=headers, timeout=120)

    def test_every_photo_and_orientation_gets_the_right_size(self):
        for i, orient in enumerate(ORIENT):
            status, hdrs, body = self.post("/v1/resize?w=640", read("photos", f"photo-{i:02d}.jpg"))
            self.assertEqual(status, 200, body[:200])
            want = (640, 480) if orient in (1, 3) else (640, 853)
            self.assertEqual(vips_size(body), want, f"photo-{i:02d} orientation {orient}")
            self.assertEqual((int(hdrs["x-image-width"]), int(hdrs["x-image-height"])), want)
            self.assertEqual(hdrs["content-type"], "image/jpeg")
            self.assertEqual(magic(body), "jpeg")

    def test_fit_modes(self):
        src = read("photos", "photo-00.jpg")  # 4032x3024, orientation 1
        for query, want in (("w=300&h=300&fit=cover", (300, 300)),
                            ("w=300&h=300&fit=inside", (300, 225)),
                            ("w=300&h=300&fit=contain", (300, 300)),
                            ("w=300&h=100&fit=fill", (300, 100)),
                            ("h=150", (200, 150)),
                            ("w=300&h=300&fit=cover&gravity=attention", (300, 300))):
            status, _, body = self.post("/v1/resize?" + query, src)
            self.assertEqual(status, 200, query)
            self.assertEqual(vips_size(body), want, query)

    def test_no_enlargement_past_the_source(self):
        status, _, body = self.post("/v1/resize?w=5000", read("formats", "tiny.png"))
        self.assertEqual(status, 200)
        self.assertEqual(vips_size(body), (1, 1))

    def test_output_formats(self):
        src = read("photos", "photo-02.jpg")
        for fmt, mime in (("webp", "image/webp"), ("png", "image/png"), ("jpeg", "image/jpeg"),
                          ("avif", "image/avif")):
            status, hdrs, body = self.post(f"/v1/resize?w=120&format={fmt}&q=70", src)
            self.assertEqual(status, 200, fmt)
            self.assertEqual(hdrs["content-type"], mime)
            self.assertEqual(magic(body), fmt)

    def test_other_input_formats(self):
        for name, fmt in (("photo.heic", "jpeg"), ("photo.avif", "jpeg"), ("photo.webp", "webp"),
                          ("alpha.png", "png"), ("anim.gif", "png"), ("gray.jpg", "jpeg"),
                          ("cmyk.jpg", "jpeg"), ("progressive.jpg", "jpeg"),
                          ("deep16.png", "png")):
            status, _, body = self.post("/v1/resize?w=200", read("formats", name))
            self.assertEqual(status, 200, name)
            self.assertEqual(magic(body), fmt, name)
            self.assertEqual(vips_size(body)[0], 200, name)

    def test_outputs_carry_no_metadata(self):
        exiftool = shutil.which("exiftool")
        self.assertIsNotNone(exiftool, "exiftool (libimage-exiftool-perl) missing")
        status, _, body = self.post("/v1/resize?w=320", read("photos", "photo-01.jpg"))
        self.assertEqual(status, 200)
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(body)
            f.flush()
            out = subprocess.run([exiftool, "-json", "-EXIF:all", "-XMP:all", "-IPTC:all",
                                  "-GPS:all", f.name], capture_output=True, text=True).stdout
        tags = json.loads(out)[0]
        self.assertEqual(sorted(k for k in tags if k != "SourceFile"), [])

    def test_info_gives_facts_and_placeholders(self):
        status, _, body = self.post("/v1/info", read("photos", "photo-01.jpg"))
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual((doc["format"], doc["width"], doc["height"], doc["orientation"]),
                         ("jpeg", 3024, 4032, 6))
        self.assertEqual((doc["alpha"], doc["frames"]), (False, 1))
        self.assertRegex(doc["dominantColor"], r"^#[0-9a-f]{6}$")
        self.assertEqual(len(doc["blurhash"]), 28)  # 4x3 components
        self.assertRegex(doc["thumbhash"], r"^[A-Za-z0-9+/]+=*$")
        status, _, body = self.post("/v1/info", read("formats", "alpha.png"))
        self.assertTrue(json.loads(body)["alpha"])
        status, _, body = self.post("/v1/info", read("formats", "anim.gif"))
        self.assertEqual(json.loads(body)["frames"], 8)

    def test_hostile_files_are_refused_with_their_codes(self):
        for name, status, code in (
            ("empty.jpg", 400, "empty_body"),
            ("text-named.jpg", 415, "unsupported_format"),
            ("xxe.svg", 415, "unsupported_format"),
            ("doc.pdf", 415, "unsupported_format"),
            ("pixel-flood.png", 422, "too_many_pixels"),
            ("header-bomb.jpg", 422, None),
            ("truncated.jpg", 422, None),
        ):
            for path in ("/v1/resize?w=100", "/v1/info"):
                st, hdrs, body = self.post(path, read("hostile", name))
                doc = json.loads(body)
                self.assertEqual(st, status, f"{name} {path}: {body[:200]}")
                if code:
                    self.assertEqual(doc["error"]["code"], code, name)
                else:
                    self.assertIn(doc["error"]["code"], ("too_many_pixels", "dimensions_too_large",
                                                         "corrupt_image", "truncated"), name)
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)  # still serving

    def test_bad_options_are_400(self):
        src = read("formats", "tiny.png")
        for q in ("", "w=0", "w=abc", "w=16385", "w=10&fit=squash", "w=10&format=bmp",
                  "w=10&q=0", "w=10&q=101", "w=10&gravity=north"):
            st, _, body = self.post("/v1/resize?" + q, src)
            self.assertEqual((st, json.loads(body)["error"]["code"]), (400, "invalid_option"), q)

    def test_multipart_envelope_is_recovered_with_a_warning(self):
        st, hdrs, body = self.post("/v1/resize?w=100", read("hostile", "formdata-wrapped.jpg"))
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["x-imgsvc-warning"], "multipart_unwrapped")
        self.assertEqual(magic(body), "jpeg")

    def test_requires_authentication(self):
        st, hdrs, body = self.srv.request("POST", "/v1/resize?w=10",
                                          body=read("formats", "tiny.png"))
        self.assertEqual((st, json.loads(body)["error"]["code"]), (401, "unauthenticated"))


class ResizeLimits(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        if not os.path.isfile(corpus("MANIFEST")):
            self.skipTest(f"image corpus not found in IMGSVC_CORPUS_DIR='{CORPUS}'")

    def test_multipart_refused_when_recovery_is_off(self):
        srv = Server(env={"IMGSVC_MULTIPART_RECOVERY": "false"})
        st, _, body = srv.request("POST", "/v1/resize?w=100",
                                  body=read("hostile", "formdata-wrapped.jpg"))
        doc = json.loads(body)
        self.assertEqual((st, doc["error"]["code"]), (400, "multipart_upload"))
        self.assertIn("raw", doc["error"]["message"])
        self.assertEqual(srv.stop(), 0)

    def test_body_over_the_image_cap_is_413(self):
        srv = Server(env={"IMGSVC_MAX_IMAGE_BYTES": "100000"})
        st, _, body = srv.request("POST", "/v1/resize?w=100", body=read("photos", "photo-00.jpg"))
        self.assertEqual((st, json.loads(body)["error"]["code"]), (413, "payload_too_large"))
        self.assertEqual(srv.stop(), 0)

    def test_busy_workers_answer_429_with_retry_after(self):
        """One slot, no queue: while a background loop keeps the slot busy with the 108 MP
        photo, an /v1/info request is refused with 429 + Retry-After. The loop runs until
        that happens (each resize holds the slot for a short moment only, and a request can
        land on the same HTTP thread as the running resize), so no timing is assumed."""
        srv = Server(env={"IMGSVC_RESIZE_CONCURRENCY": "1", "IMGSVC_RESIZE_QUEUE": "0"})
        big = read("formats", "large-108mp.jpg")
        tiny = read("formats", "tiny.png")
        stop = threading.Event()
        statuses = []

        def hold_the_slot():
            while not stop.is_set():
                statuses.append(srv.request("POST", "/v1/resize?w=1080", body=big,
                                            timeout=120)[0])

        t = threading.Thread(target=hold_the_slot)
        t.start()
        got429 = None
        try:
            deadline = time.time() + 120
            while time.time() < deadline and got429 is None and t.is_alive():
                st, hdrs, body = srv.request("POST", "/v1/info", body=tiny)
                self.assertIn(st, (200, 429), body)
                if st == 429:
                    got429 = (hdrs, json.loads(body))
        finally:
            stop.set()
            t.join(180)
        self.assertIsNotNone(got429, "no 429 while the only slot was busy")
        self.assertEqual(got429[1]["error"]["code"], "too_many_requests")
        self.assertEqual(got429[0]["retry-after"], "1")
        # the slot's holder was refused only when /v1/info held it, and did its work otherwise
        self.assertIn(200, statuses)
        self.assertEqual(set(statuses) - {200, 429}, set(), statuses)
        self.assertEqual(srv.stop(), 0)

if __name__ == "__main__":
    unittest.main()
