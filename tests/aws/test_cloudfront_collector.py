"""The ``cloudfront`` collector (global unit) against the moto server: the story's distribution
has no logging; one created with logging passes."""

from __future__ import annotations

from simulation.account import client, seed_story_stack
from tests.aws.collecting import ACCOUNT, collect

CHECK = "cloudfront_distribution_logging_enabled"


def _distribution(endpoint: str, reference: str, logging: dict | None) -> str:
    config = {
        "CallerReference": reference,
        "Comment": reference,
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "site",
                    "DomainName": "site.s3.eu-west-1.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    if logging is not None:
        config["Logging"] = logging
    answer = client(endpoint, "cloudfront").create_distribution(DistributionConfig=config)
    return str(answer["Distribution"]["ARN"])


def test_story_distribution_without_logging_and_one_with(aws: str) -> None:
    seed_story_stack(aws, bucket_name="story-images")
    logged = _distribution(
        aws,
        "logged",
        {
            "Enabled": True,
            "IncludeCookies": False,
            "Bucket": "cdn-logs.s3.amazonaws.com",
            "Prefix": "site/",
        },
    )

    run = collect(aws, "cloudfront")

    statuses = run.statuses(CHECK)
    assert statuses.pop(logged) == "pass"
    [(story, status)] = statuses.items()
    assert story.startswith(f"arn:aws:cloudfront::{ACCOUNT}:distribution/")
    assert status == "fail"
    assert "standard logging disabled" in run.results[(CHECK, story)].summary
    ref = next(r for r in run.collected.resources if r.arn == logged)
    assert (ref.resource_type, ref.region) == ("AWS::CloudFront::Distribution", "global")
    assert ref.configuration["Logging"]["Bucket"] == "cdn-logs.s3.amazonaws.com"
    # ListDistributions, then GetDistributionConfig per distribution.
    assert run.ctx.api_calls == 3


def test_account_without_distributions(aws: str) -> None:
    run = collect(aws, "cloudfront")
    assert run.collected.resources == []
    assert run.ctx.api_calls == 1
