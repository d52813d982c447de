/*
 * Unit tests for common/metrics: counters, gauges, histograms and the text format.
 */
#include "t.h"

#include <stdlib.h>

#include "common/metrics.h"

static double seven(void *arg)
{
    (void)arg;
    return 7;
}

TEST(counter_and_gauge_render)
{
    metrics_reset();
    REQUIRE(metrics_register("t_requests_total", METRICS_COUNTER, "Requests", NULL, 0));
    REQUIRE(metrics_register("t_temp", METRICS_GAUGE, "A gauge", NULL, 0));
    REQUIRE(metrics_register_fn("t_fn", "Computed", seven, NULL));
    metrics_add("t_requests_total", "code=\"200\"", 1);
    metrics_add("t_requests_total", "code=\"200\"", 2);
    metrics_add("t_requests_total", "code=\"404\"", 1);
    metrics_set("t_temp", NULL, 1.5);
    metrics_add("t_unknown", NULL, 1); /* ignored */
    CHECK(metrics_get("t_requests_total", "code=\"200\"") == 3);
    size_t len = 0;
    char *text = metrics_render(&len);
    REQUIRE(text != NULL);
    CHECK_INT(strlen(text), len);
    CHECK(strstr(text, "# HELP t_requests_total Requests\n# TYPE t_requests_total counter\n"));
    CHECK(strstr(text, "t_requests_total{code=\"200\"} 3\n") != NULL);
    CHECK(strstr(text, "t_requests_total{code=\"404\"} 1\n") != NULL);
    CHECK(strstr(text, "t_temp 1.5\n") != NULL);
    CHECK(strstr(text, "t_fn 7\n") != NULL);
    free(text);
    metrics_reset();
}

TEST(histogram_buckets_are_cumulative)
{
    metrics_reset();
    static const double b[] = {0.1, 1};
    REQUIRE(metrics_register("t_seconds", METRICS_HISTOGRAM, "Latency", b, 2));
    metrics_observe("t_seconds", "r=\"a\"", 0.05);
    metrics_observe("t_seconds", "r=\"a\"", 0.5);
    metrics_observe("t_seconds", "r=\"a\"", 5);
    char *text = metrics_render(NULL);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "t_seconds_bucket{r=\"a\",le=\"0.1\"} 1\n") != NULL);
    CHECK(strstr(text, "t_seconds_bucket{r=\"a\",le=\"1\"} 2\n") != NULL);
    CHECK(strstr(text, "t_seconds_bucket{r=\"a\",le=\"+Inf\"} 3\n") != NULL);
    CHECK(strstr(text, "t_seconds_sum{r=\"a\"} 5.55\n") != NULL);
    CHECK(strstr(text, "t_seconds_count{r=\"a\"} 3\n") != NULL);
    free(text);
    CHECK(!metrics_register("t_bad", METRICS_HISTOGRAM, "no buckets", NULL, 0));
    metrics_reset();
}

TEST(label_escape)
{
    char out[32];
    metrics_label_escape("a\"b\\c\nd", out, sizeof(out));
    CHECK_STR(out, "a\\\"b\\\\c\\nd");
    metrics_label_escape("abcdefgh", out, 5);
    CHECK_STR(out, "abcd");
}

TEST_MAIN()
