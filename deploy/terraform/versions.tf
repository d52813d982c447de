# Terraform and provider versions, pinned: `terraform init` writes .terraform.lock.hcl with the
# provider's checksums; commit it next to this file in the repository that applies it.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.82.2"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.tags
  }
}
