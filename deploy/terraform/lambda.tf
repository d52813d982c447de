# The function: the same container image as the service, running `imgsvc lambda` (the Lambda
# Runtime API loop). S3 invokes it asynchronously; failed events are retried by Lambda and then
# sent to the dead-letter queue.

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

# Memory and timeout (variables.tf defaults) come from docs/benchmarks.md, "Imaging": about
# 140-160 ms of CPU per 12 MP photo on one libvips thread and 58.5 MB peak RSS for the 108 MP
# photo, hence 1769 MB (one full vCPU, which the one-image pipeline uses) and 60 s (room for S3
# retries, not pixels); deploy/terraform/README.md, "Memory and timeout, from the benchmarks".
resource "aws_lambda_function" "imgsvc" {
  function_name = var.name
  role          = aws_iam_role.lambda.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]
  memory_size   = var.lambda_memory_mb
  timeout       = var.lambda_timeout_s

  reserved_concurrent_executions = var.reserved_concurrency

  # ENTRYPOINT is /usr/local/bin/imgsvc; the command picks the subcommand.
  image_config {
    command = ["lambda"]
  }

  environment {
    variables = merge({
      IMGSVC_S3_ENDPOINT   = "https://s3.${var.aws_region}.amazonaws.com"
      IMGSVC_S3_BUCKET     = aws_s3_bucket.images.bucket
      IMGSVC_S3_ADDRESSING = "virtual"
      IMGSVC_LOG_LEVEL     = var.log_level
      # One image per invocation on one vCPU: one libvips thread, no idle pool.
      IMGSVC_VIPS_CONCURRENCY = "1"
      IMGSVC_WORKERS          = "1"
      # S3 attempts bounded well inside the function's timeout (cmd_lambda also caps them by
      # the invocation's deadline).
      IMGSVC_S3_TIMEOUT_MS = "20000"
      # Lambda's file system is read-only but /tmp; nothing is stored there by `lambda`.
      IMGSVC_DATA_DIR = "/tmp/imgsvc"
      # No HTTP listener runs in Lambda; loopback keeps the service's listen checks quiet.
      IMGSVC_LISTEN_ADDR       = "127.0.0.1"
      IMGSVC_STORE_LISTEN_ADDR = "127.0.0.1"
    }, var.environment)
  }

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

# S3 may invoke the function, for this bucket of this account only.
resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3Invoke"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.imgsvc.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.images.arn
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_sqs_queue" "dead_letter" {
  count = var.enable_dead_letter_queue ? 1 : 0

  name                      = "${var.name}-dead-letter"
  message_retention_seconds = var.dead_letter_retention_s
  sqs_managed_sse_enabled   = true
}

# Retries of failed S3 events, and where they go when every attempt failed.
resource "aws_lambda_function_event_invoke_config" "imgsvc" {
  function_name                = aws_lambda_function.imgsvc.function_name
  maximum_retry_attempts       = var.async_retry_attempts
  maximum_event_age_in_seconds = var.max_event_age_s

  dynamic "destination_config" {
    for_each = var.enable_dead_letter_queue ? [1] : []

    content {
      on_failure {
        destination = aws_sqs_queue.dead_letter[0].arn
      }
    }
  }
}
