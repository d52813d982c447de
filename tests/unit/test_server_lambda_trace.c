/*
 * test_server_lambda_trace.c: `imgsvc lambda` exports each invocation's trace id
 * (Lambda-Runtime-Trace-Id) as _X_AMZN_TRACE_ID, replaces it on the next invocation, and removes
 * it when an invocation comes without one, so no invocation runs under another's trace. (That
 * the header reaches the invocation is test_lambda.py's: the trace id is logged.)
 */
#include "t.h"

#include <stdlib.h>

#include "server/cmd_lambda.h"

#define TRACE_A "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
#define TRACE_B "Root=1-67891233-abcdef012345678912345678;Parent=0123456789abcdef;Sampled=0"

TEST(trace_id_is_exported_replaced_and_removed)
{
    unsetenv("_X_AMZN_TRACE_ID");
    char held[] = TRACE_A;
    srv_lambda_export_trace(held);
    held[0] = 'X'; /* the environment keeps its own copy */
    const char *got = getenv("_X_AMZN_TRACE_ID");
    REQUIRE(got != NULL);
    CHECK_STR(got, TRACE_A);
    srv_lambda_export_trace(TRACE_B);
    got = getenv("_X_AMZN_TRACE_ID");
    REQUIRE(got != NULL);
    CHECK_STR(got, TRACE_B);
    srv_lambda_export_trace("");
    CHECK(getenv("_X_AMZN_TRACE_ID") == NULL);
    srv_lambda_export_trace(TRACE_A);
    srv_lambda_export_trace(NULL);
    CHECK(getenv("_X_AMZN_TRACE_ID") == NULL);
}

TEST_MAIN()
