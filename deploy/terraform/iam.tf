# The function's role, with least privilege: read and delete the uploads under delete/, write
# and read the output prefixes, list only those prefixes, write its own logs, and send to its
# dead-letter queue. No wildcard action, no bucket-wide object access, no AmazonS3FullAccess
# (tests/deploy checks all of this on every .tf file).

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

data "aws_iam_policy_document" "lambda" {
  # The event's temp object: HEAD/GET it, delete it once every output is written.
  statement {
    sid       = "ReadAndDeleteUploads"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/delete/*"]
  }

  # Variants, origins, manifests and failed records.
  statement {
    sid     = "WriteOutputs"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/profile/*",
      "${aws_s3_bucket.images.arn}/feed/*",
      "${aws_s3_bucket.images.arn}/chatroom/*",
      "${aws_s3_bucket.images.arn}/failed/*",
    ]
  }

  # Existing manifests and failed records (a repeated event is answered from them) and origins
  # (reprocessing).
  statement {
    sid     = "ReadOutputs"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/profile/*",
      "${aws_s3_bucket.images.arn}/feed/*",
      "${aws_s3_bucket.images.arn}/chatroom/*",
      "${aws_s3_bucket.images.arn}/failed/*",
    ]
  }

  # Listing only under delete/ (the reconciler) and the output prefixes (reprocessing). The
  # ...IfExists form also lets S3 answer 404 rather than 403 for a key that does not exist (a
  # GET carries no s3:prefix), which the pipeline relies on: "no manifest yet" must be a 404.
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]

    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = ["delete/*", "profile/*", "feed/*", "chatroom/*", "failed/*"]
    }
  }

  # Its own log group only (the group itself is created by Terraform, below).
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # Lambda's on-failure destination sends with the function's role.
  dynamic "statement" {
    for_each = var.enable_dead_letter_queue ? [1] : []

    content {
      sid       = "SendToDeadLetterQueue"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.dead_letter[0].arn]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

# For `imgsvc serve` replicas (docs/deploy.md, "Many replicas"): attach this policy to the role
# or user they run as. They presign PUTs to delete/ (the signature is the replicas' own, so the
# grant must be theirs), process events like the function, and read manifests for status.
data "aws_iam_policy_document" "service" {
  statement {
    sid       = "UploadsAndTemp"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/delete/*"]
  }

  statement {
    sid     = "Outputs"
    actions = ["s3:GetObject", "s3:PutObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/profile/*",
      "${aws_s3_bucket.images.arn}/feed/*",
      "${aws_s3_bucket.images.arn}/chatroom/*",
      "${aws_s3_bucket.images.arn}/failed/*",
    ]
  }

  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]

    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = ["delete/*", "profile/*", "feed/*", "chatroom/*", "failed/*"]
    }
  }
}

resource "aws_iam_policy" "service" {
  name        = "${var.name}-service"
  description = "imgsvc serve replicas: presign uploads, process them, read their status."
  policy      = data.aws_iam_policy_document.service.json
}
