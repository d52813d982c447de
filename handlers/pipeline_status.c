/*
 * pipeline_status.c: the state of one upload derived from S3 alone (h_pipeline_status), so
 * any replica answers the same: manifest → ready, failed record → failed, temp → pending.
 *
 * The upload id does not carry the extension, so a pending upload's temp is found with one
 * ListObjectsV2 (prefix "delete/<path>/<upload id>.", max-keys 1) rather than up to seven
 * HEADs, one per image extension; when the caller knows the extension (the temp key was given)
 * one HEAD does it. Order matters against a pipeline finishing meanwhile (it writes the
 * manifest, then deletes the temp): when the temp is not found the records are read again.
 */
#include "handlers/pipeline_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Looks for the manifest, then the failed record. *found false when neither exists. */
static enum err_code read_records(struct h_pipeline *p, const struct s3_key *k,
                                  enum h_upload_state *state, char **json, bool *found,
                                  struct err *e)
{
    struct h_manifest *m = calloc(1, sizeof(*m));
    enum err_code rc = ERR_NOMEM;
    *found = false;
    if (m == NULL)
        goto cleanup;
    rc = h_pipe_record_read(p, k, S3_KEY_MANIFEST, m, json, e);
    if (rc == ERR_OK) {
        *state = H_UPLOAD_READY;
        *found = true;
        goto cleanup;
    }
    if (rc != ERR_NOT_FOUND)
        goto cleanup;
    rc = h_pipe_record_read(p, k, S3_KEY_FAILED, m, json, e);
    if (rc == ERR_OK) {
        *state = H_UPLOAD_FAILED;
        *found = true;
    } else if (rc == ERR_NOT_FOUND) {
        rc = ERR_OK;
    }
cleanup:
    free(m);
    return rc;
}

/* Is a temp object of this upload there? With a known extension one HEAD, else one LIST. */
static enum err_code temp_exists(struct h_pipeline *p, const struct s3_key *k, bool *exists,
                                 struct err *e)
{
    char key[S3_KEY_MAX];
    enum err_code rc = ERR_OK;
    *exists = false;
    if (s3_key_content_type_from_ext(k->ext) != NULL) {
        struct s3_object_info info = {0};
        rc = h_pipe_key(k, S3_KEY_TEMP, NULL, NULL, key, e);
        if (rc == ERR_OK)
            rc = s3_client_head(p->cfg.s3, key, &info, NULL, e);
        s3_object_info_free(&info);
        *exists = rc == ERR_OK;
        return rc == ERR_NOT_FOUND ? ERR_OK : rc;
    }
    /* any image extension builds the key; cut it after the upload id's '.' for the prefix */
    rc = h_pipe_key(k, S3_KEY_TEMP, NULL, "jpeg", key, e);
    if (rc != ERR_OK)
        return rc;
    key[strlen(key) - strlen("jpeg")] = '\0';
    struct s3_list_opts lo = {.prefix = key, .max_keys = 1};
    struct s3_list_page page = {0};
    rc = s3_client_list(p->cfg.s3, &lo, &page, NULL, e);
    *exists = rc == ERR_OK && page.nentries > 0;
    s3_list_page_free(&page);
    return rc;
}

enum err_code h_pipeline_status(struct h_pipeline *p, const struct s3_key *k,
                                enum h_upload_state *state, char **manifest_json, struct err *e)
{
    bool found = false, exists = false;
    *state = H_UPLOAD_UNKNOWN;
    *manifest_json = NULL;
    enum err_code rc = read_records(p, k, state, manifest_json, &found, e);
    if (rc != ERR_OK || found)
        return rc;
    rc = temp_exists(p, k, &exists, e);
    if (rc != ERR_OK)
        return rc;
    if (exists) {
        *state = H_UPLOAD_PENDING;
        return ERR_OK;
    }
    /* finished between the two reads? */
    return read_records(p, k, state, manifest_json, &found, e);
}

const char *h_upload_state_name(enum h_upload_state s)
{
    switch (s) {
    case H_UPLOAD_UNKNOWN:
        return "unknown";
    case H_UPLOAD_PENDING:
        return "pending";
    case H_UPLOAD_READY:
        return "ready";
    case H_UPLOAD_FAILED:
        return "failed";
    }
    return "unknown";
}
