/*
 * test_common_uuid_pool.c: uuid_v4's per-thread pool of random bytes (common/uuid.c): every
 * UUID is distinct across threads and refills, and a forked child never repeats the UUIDs the
 * parent hands out next (the child drops its copy of the pool).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/uuid.h"
#include "t.h"

#define PER_THREAD 5000
#define THREADS    4

static char ids[THREADS * PER_THREAD][UUID_STR_LEN];

static void *make_many(void *arg)
{
    size_t base = (size_t)(uintptr_t)arg * PER_THREAD;
    for (size_t i = 0; i < PER_THREAD; i++)
        if (uuid_v4(ids[base + i]) != ERR_OK)
            ids[base + i][0] = '\0';
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

TEST(distinct_across_threads_and_refills)
{
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, make_many, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int invalid = 0, dups = 0;
    for (size_t i = 0; i < THREADS * PER_THREAD; i++)
        invalid += uuid_v4_valid(ids[i]) ? 0 : 1;
    qsort(ids, THREADS * PER_THREAD, UUID_STR_LEN, cmp_id);
    for (size_t i = 1; i < THREADS * PER_THREAD; i++)
        dups += strcmp(ids[i - 1], ids[i]) == 0 ? 1 : 0;
    CHECK_INT(invalid, 0);
    CHECK_INT(dups, 0);
}

TEST(forked_child_does_not_repeat_the_parent)
{
    char first[UUID_STR_LEN], parent_next[UUID_STR_LEN], child_next[UUID_STR_LEN] = {0};
    int fds[2];
    REQUIRE(uuid_v4(first) == ERR_OK); /* the pool now holds bytes for the next UUIDs */
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char mine[UUID_STR_LEN];
        int ok = uuid_v4(mine) == ERR_OK && write(fds[1], mine, UUID_STR_LEN) == UUID_STR_LEN;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    REQUIRE(uuid_v4(parent_next) == ERR_OK);
    ssize_t n = read(fds[0], child_next, UUID_STR_LEN);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(n == UUID_STR_LEN && uuid_v4_valid(child_next));
    CHECK(strcmp(parent_next, child_next) != 0);
    CHECK(strcmp(first, child_next) != 0);
}

TEST_MAIN()
