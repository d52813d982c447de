/*
 * Unit tests for strcount: counts per key (a multiset), removal at zero, many keys in few
 * chains, and adds and removes from several threads at once.
 */
#include "t.h"

#include <pthread.h>

#include "common/strcount.h"

TEST(counts_each_key)
{
    struct strcount *s = strcount_new(0);
    REQUIRE(s != NULL);
    CHECK_INT((int)strcount_get(s, "a"), 0);
    CHECK_INT(strcount_add(s, "a"), ERR_OK);
    CHECK_INT(strcount_add(s, "a"), ERR_OK);
    CHECK_INT(strcount_add(s, "b"), ERR_OK);
    CHECK_INT((int)strcount_get(s, "a"), 2);
    CHECK_INT((int)strcount_get(s, "b"), 1);
    CHECK_INT((int)strcount_get(s, ""), 0);
    CHECK_INT((int)strcount_size(s), 2);
    strcount_remove(s, "a");
    CHECK_INT((int)strcount_get(s, "a"), 1);
    strcount_remove(s, "a");
    CHECK_INT((int)strcount_get(s, "a"), 0);
    strcount_remove(s, "a"); /* not present: no-op */
    strcount_remove(s, "zzz");
    CHECK_INT((int)strcount_size(s), 1);
    CHECK_INT((int)strcount_get(s, "b"), 1);
    strcount_free(s);
    strcount_free(NULL);
}

TEST(many_keys_share_few_chains)
{
    struct strcount *s = strcount_new(1); /* 16 chains */
    REQUIRE(s != NULL);
    char key[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "delete/profile/%d/x.jpeg", i);
        CHECK_INT(strcount_add(s, key), ERR_OK);
    }
    CHECK_INT((int)strcount_size(s), 1000);
    for (int i = 0; i < 1000; i += 2) {
        snprintf(key, sizeof(key), "delete/profile/%d/x.jpeg", i);
        strcount_remove(s, key);
    }
    CHECK_INT((int)strcount_size(s), 500);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "delete/profile/%d/x.jpeg", i);
        CHECK_INT((int)strcount_get(s, key), i % 2);
    }
    strcount_free(s);
}

static void *churn(void *arg)
{
    struct strcount *s = arg;
    char key[32];
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 20; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            if (strcount_add(s, key) != ERR_OK)
                return NULL;
        }
        for (int i = 0; i < 20; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            strcount_remove(s, key);
        }
    }
    return s;
}

TEST(threads_add_and_remove_at_once)
{
    struct strcount *s = strcount_new(64);
    REQUIRE(s != NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, churn, s) == 0);
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        ok += r == s;
    }
    CHECK_INT(ok, 4);
    CHECK_INT((int)strcount_size(s), 0);
    strcount_free(s);
}

TEST_MAIN()
