/*
 * fuzz_s3_events.c: S3 event notification parsing (s3_events_parse, s3/events.h).
 *
 * Input: a notification body as AWS, Ceph RGW or MinIO would POST it. Invariants on success:
 * at most the asked number of records; every record has a bucket and a non-empty key that
 * fits S3's key limit; the key decoder never writes past its output; sequencer comparison is
 * reflexive and antisymmetric.
 */
#include "fuzz.h"

#include "s3/events.h"

#define FZ_MAX_RECORDS 8

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void check_record(const struct s3_event_record *r)
{
    FUZZ_CHECK(r->bucket[0] != '\0');
    FUZZ_CHECK(r->key[0] != '\0');
    FUZZ_CHECK(strlen(r->key) <= S3_EVENT_KEY_MAX);
    FUZZ_CHECK(r->size >= -1);
    FUZZ_CHECK(s3_event_source_name(r->source) != NULL);
    (void)s3_event_is_created(r);
    FUZZ_CHECK(s3_event_sequencer_cmp(r->sequencer, r->sequencer) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct s3_event_batch b;
    struct err e = {0};
    memset(&b, 0, sizeof(b));
    if (s3_events_parse((const char *)data, size, FZ_MAX_RECORDS, &b, &e) == ERR_OK) {
        FUZZ_CHECK(b.count <= FZ_MAX_RECORDS);
        FUZZ_CHECK(b.count == 0 || b.records != NULL);
        for (size_t i = 0; i < b.count; i++)
            check_record(&b.records[i]);
        if (b.count >= 2) {
            const char *x = b.records[0].sequencer, *y = b.records[1].sequencer;
            FUZZ_CHECK(sign(s3_event_sequencer_cmp(x, y)) == -sign(s3_event_sequencer_cmp(y, x)));
        }
        s3_event_batch_free(&b);
    } else {
        FUZZ_CHECK(memchr(e.msg, '\0', sizeof(e.msg)) != NULL);
    }
    /* The key decoder alone, on the raw input, into a small buffer. */
    char *s = fuzz_strdup(data, size);
    char out[64];
    if (s3_event_key_decode(s, out, sizeof(out)))
        FUZZ_CHECK(strlen(out) < sizeof(out));
    free(s);
    return 0;
}
