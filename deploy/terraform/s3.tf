# The bucket: private (public access blocked, bucket-owner objects, TLS only), uploads under
# delete/ expire after a day, failed records after var.failed_retention_days, and CORS lets the
# apps PUT straight to it with presigned URLs.

resource "aws_s3_bucket" "images" {
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "images" {
  bucket = aws_s3_bucket.images.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  # An upload that was never processed (no event, every retry failed) is dropped after a day,
  # as the seed did; imgsvc deletes each temp object itself once its outputs are written.
  rule {
    id     = "expire-temp-uploads"
    status = "Enabled"

    filter {
      prefix = "delete/"
    }

    expiration {
      days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # A bad upload's record (failed/<path>/<uploadId>.json) answers GET /v1/uploads/{id} with the
  # reason; it is kept var.failed_retention_days days.
  rule {
    id     = "expire-failed-records"
    status = "Enabled"

    filter {
      prefix = "failed/"
    }

    expiration {
      days = var.failed_retention_days
    }
  }
}

resource "aws_s3_bucket_cors_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  # The apps PUT the photo to the presigned URL imgsvc handed out (POST /v1/uploads).
  cors_rule {
    allowed_methods = ["PUT"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["content-type", "content-md5", "x-amz-*"]
    expose_headers  = ["ETag", "x-amz-request-id"]
    max_age_seconds = 3000
  }
}

# Refuse plain-HTTP requests to the bucket (a Deny; the grants are in iam.tf).
data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.images.arn,
      "${aws_s3_bucket.images.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "images" {
  bucket = aws_s3_bucket.images.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.images]
}

# S3 invokes the function for every object created under delete/ (the seed's trigger). Outputs
# are never written under delete/, so the function cannot trigger itself.
resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.images.id

  lambda_function {
    lambda_function_arn = aws_lambda_function.imgsvc.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "delete/"
  }

  depends_on = [aws_lambda_permission.s3]
}
