# Inputs of the imgsvc deployment. Only image_uri, bucket_name and cors_allowed_origins have no
# default; README.md explains the defaults of memory, timeout and retries.

variable "aws_region" {
  description = "Region of the bucket and the function."
  type        = string
  default     = "eu-west-3"
}

variable "name" {
  description = "Name of the function, its role, log group and queue (letters, digits, - and _)."
  type        = string
  default     = "imgsvc"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1 to 56 letters, digits, '-' or '_'."
  }
}

variable "bucket_name" {
  description = "Bucket that receives the uploads (delete/...) and holds the variants, origins, manifests and failed records."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3 to 63 lowercase letters, digits, '.' or '-')."
  }
}

variable "image_uri" {
  description = "ECR image of imgsvc built from the top-level Dockerfile, by digest (ACCOUNT.dkr.ecr.REGION.amazonaws.com/imgsvc@sha256:...)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/.+[:@].+$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or, better, a digest."
  }
}

variable "architecture" {
  description = "Lambda architecture; it must match the platform the image was built for (linux/amd64 = x86_64, linux/arm64 = arm64)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "lambda_memory_mb" {
  description = "Function memory in MB. 1769 MB is one full vCPU, which the one-image-at-a-time pipeline uses entirely (README.md)."
  type        = number
  default     = 1769

  validation {
    condition     = var.lambda_memory_mb >= 512 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be from 512 to 10240."
  }
}

variable "lambda_timeout_s" {
  description = "Function timeout in seconds (README.md: a 12 MP photo takes well under a second; the worst accepted input and S3 retries must fit)."
  type        = number
  default     = 60

  validation {
    condition     = var.lambda_timeout_s >= 10 && var.lambda_timeout_s <= 900
    error_message = "lambda_timeout_s must be from 10 to 900."
  }
}

variable "reserved_concurrency" {
  description = "Most concurrent executions of the function (-1: no reservation, the account's pool)."
  type        = number
  default     = -1
}

variable "async_retry_attempts" {
  description = "Retries Lambda makes of a failed S3 event (0 to 2) before it goes to the dead-letter queue."
  type        = number
  default     = 2

  validation {
    condition     = var.async_retry_attempts >= 0 && var.async_retry_attempts <= 2
    error_message = "async_retry_attempts must be 0, 1 or 2."
  }
}

variable "max_event_age_s" {
  description = "Oldest S3 event (seconds) Lambda still delivers or retries; older ones go to the dead-letter queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.max_event_age_s >= 60 && var.max_event_age_s <= 21600
    error_message = "max_event_age_s must be from 60 to 21600."
  }
}

variable "enable_dead_letter_queue" {
  description = "Send events that failed every attempt (or grew too old) to an SQS queue, as Lambda's on-failure destination."
  type        = bool
  default     = true
}

variable "dead_letter_retention_s" {
  description = "How long the dead-letter queue keeps a message, in seconds (at most 14 days)."
  type        = number
  default     = 1209600
}

variable "cors_allowed_origins" {
  description = "Origins of the apps that PUT uploads straight to the bucket with presigned URLs (e.g. https://app.example.com); no '*'."
  type        = list(string)

  validation {
    condition     = length(var.cors_allowed_origins) > 0 && alltrue([for o in var.cors_allowed_origins : o != "*" && can(regex("^https?://", o))])
    error_message = "cors_allowed_origins must list http(s) origins, and '*' is not allowed."
  }
}

variable "failed_retention_days" {
  description = "Days a failed upload's record (failed/...) is kept before the lifecycle rule expires it."
  type        = number
  default     = 30

  validation {
    condition     = var.failed_retention_days >= 1
    error_message = "failed_retention_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "IMGSVC_LOG_LEVEL of the function (debug, info, warn or error)."
  type        = string
  default     = "info"
}

variable "environment" {
  description = "More IMGSVC_* settings for the function (see the README's settings table), e.g. { IMGSVC_PRESETS_FILE = ... }."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^IMGSVC_[A-Z0-9_]+$", k))])
    error_message = "environment keys must be IMGSVC_* settings (AWS_* are set by Lambda)."
  }
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = { app = "imgsvc" }
}
