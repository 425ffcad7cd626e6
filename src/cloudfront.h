/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloudfront: the CloudFront API calls s3inval makes: CreateInvalidation
 * and GetInvalidation (API version 2020-05-31), and GetDistribution for
 * `check-config --online`; signed SigV4 for service
 * "cloudfront" in us-east-1 whatever the endpoint (CloudFront is a global
 * service signed in us-east-1), XML built and parsed with libxml2.
 *
 * Each call is one blocking attempt with its own curl handle; retrying,
 * pacing and limits are the worker's.  The result says what the worker
 * should do next (cloudfront_outcome).  Thread-safe; credentials come from
 * credentials_get().
 */
#ifndef S3I_CLOUDFRONT_H
#define S3I_CLOUDFRONT_H

#include <stddef.h>

#include "buf.h"

enum cf_outcome {
	CF_OK = 0,		/* created (or read) */
	CF_RETRY,		/* Throttling, TooManyInvalidationsInProgress,
				 * 5xx, network: back off and try again */
	CF_ALREADY_DONE,	/* this CallerReference was used already */
	CF_BAD_ARGUMENT,	/* InvalidArgument about the batch: bisect */
	CF_FATAL		/* AccessDenied, NoSuchDistribution, other
				 * 4xx: keep pending, report, retry slowly */
};

struct cf_result {
	enum cf_outcome	 outcome;
	long		 http_status;		/* 0: no answer */
	char		 code[64];		/* AWS error code, or "" */
	char		 message[512];
	char		 invalidation_id[128];
	char		 status[32];		/* "InProgress", "Completed" */
};

/* Origins of a distribution that GetDistribution keeps: CloudFront's
 * default quota is 25 per distribution. */
#define CF_ORIGINS_MAX	25

struct cf_origin {
	char	 id[128];
	char	 domain[256];		/* "blog.s3.us-east-1.amazonaws.com" */
	char	 origin_path[256];	/* "" or "/prefix" */
};

/* What GetDistribution tells check-config --online. */
struct cf_distribution {
	char	 status[32];		/* "Deployed", "InProgress" */
	char	 domain[256];		/* "d111111abcdef8.cloudfront.net" */
	int	 enabled;
	size_t	 n_origins;		/* listed; origins[] holds the first
					 * CF_ORIGINS_MAX */
	struct cf_origin origins[CF_ORIGINS_MAX];
};

int	cloudfront_init(const char *endpoint, long timeout_ms);
void	cloudfront_fini(void);

void	cloudfront_create(const char *distribution, const char *caller_ref,
	    const char *const *paths, size_t n, struct cf_result *);
void	cloudfront_get(const char *distribution, const char *id,
	    struct cf_result *);

/* GetDistribution: res as for the calls above; CF_OK fills *d. */
void	cloudfront_get_distribution(const char *distribution,
	    struct cf_distribution *d, struct cf_result *);

/* Pure parts, for tests and fuzzing. */
int	cloudfront_batch_xml(struct buf *, const char *caller_ref,
	    const char *const *paths, size_t n);
void	cloudfront_parse(long http_status, const char *body, size_t len,
	    struct cf_result *);
/* A GetDistribution answer's body: 0, or -1 when it is no Distribution
 * with an Id. */
int	cloudfront_parse_distribution(const char *body, size_t len,
	    struct cf_distribution *);

#endif
