/*
 * t.h: the project's tiny unit-test harness.
 *
 * A test file defines cases with TEST(name) { ... } and ends with TEST_MAIN(). CMake scans
 * the file for TEST(...) lines and registers each case as its own ctest case, running
 * `<binary> <case>`. Running the binary with no argument runs every case.
 * CHECK* macros record a failure with file and line and continue; REQUIRE* stop the case.
 */
#ifndef IMGSVC_TESTS_T_H
#define IMGSVC_TESTS_T_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_case {
    const char *name;
    void (*fn)(void);
};

#define T_MAX_CASES 512
extern struct t_case t_cases[T_MAX_CASES];
extern int t_ncases;
extern int t_failures;

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void reg_##name(void)                                      \
    {                                                                                              \
        if (t_ncases < T_MAX_CASES)                                                                \
            t_cases[t_ncases++] = (struct t_case){#name, test_##name};                             \
    }                                                                                              \
    static void test_##name(void)

#define T_FAIL(...)                                                                                \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        t_failures++;                                                                              \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            T_FAIL("CHECK(%s) failed", #cond);                                                     \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            T_FAIL("REQUIRE(%s) failed", #cond);                                                   \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_)                                                                            \
            T_FAIL("%s == %lld, expected %s == %lld", #a, va_, #b, vb_);                           \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0)                                   \
            T_FAIL("%s == \"%s\", expected \"%s\"", #a, sa_ ? sa_ : "(null)",                      \
                   sb_ ? sb_ : "(null)");                                                          \
    } while (0)

#define TEST_MAIN()                                                                                \
    struct t_case t_cases[T_MAX_CASES];                                                            \
    int t_ncases;                                                                                  \
    int t_failures;                                                                                \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        int t_ran = 0;                                                                             \
        for (int i = 0; i < t_ncases; i++) {                                                       \
            if (argc > 1 && strcmp(argv[1], t_cases[i].name) != 0)                                 \
                continue;                                                                          \
            int before = t_failures;                                                               \
            t_cases[i].fn();                                                                       \
            printf("%s %s\n", t_failures == before ? "ok  " : "FAIL", t_cases[i].name);            \
            t_ran++;                                                                               \
        }                                                                                          \
        if (t_ran == 0) {                                                                          \
            fprintf(stderr, "no test case named %s\n", argc > 1 ? argv[1] : "(any)");              \
            return 2;                                                                              \
        }                                                                                          \
        return t_failures == 0 ? 0 : 1;                                                            \
    }

#endif
