output "bucket_name" {
  description = "The bucket (IMGSVC_S3_BUCKET of the service)."
  value       = aws_s3_bucket.images.bucket
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.images.arn
}

output "s3_endpoint" {
  description = "IMGSVC_S3_ENDPOINT for imgsvc serve replicas in this region."
  value       = "https://s3.${var.aws_region}.amazonaws.com"
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.imgsvc.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.imgsvc.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "service_policy_arn" {
  description = "Managed policy to attach to the role of imgsvc serve replicas."
  value       = aws_iam_policy.service.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function (JSON lines)."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue (null when disabled)."
  value       = var.enable_dead_letter_queue ? aws_sqs_queue.dead_letter[0].url : null
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue (null when disabled)."
  value       = var.enable_dead_letter_queue ? aws_sqs_queue.dead_letter[0].arn : null
}
