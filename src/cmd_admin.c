/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_admin: the subcommands that talk to a running daemon's admin
 * listener: s3inval flush and s3inval healthcheck (DESIGN §9).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "cmd.h"

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
	return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

/* s3inval flush [--wait[=SECONDS]] [--admin URL]: POST /flush. */
int
cmd_flush(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", optional_argument, NULL, 'w' },
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct buf	 url, body;
	const char	*admin = NULL, *env;
	char		*end;
	long		 wait_s = -1, status = 0;
	int		 ch, rc = 1;
	CURL		*e;
	CURLcode	 cc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			wait_s = 300;
			if (optarg != NULL) {
				wait_s = strtol(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' ||
				    wait_s < 0 || wait_s > 3600) {
					fprintf(stderr, "s3inval flush: --wait "
					    "takes 0 to 3600 seconds\n");
					return 2;
				}
			}
			break;
		case 'a':
			admin = optarg;
			break;
		default:
			fprintf(stderr, "usage: s3inval flush [--wait[=SECONDS]]"
			    " [--admin URL]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	buf_init(&url);
	buf_init(&body);
	env = getenv("S3INVAL_SERVER_ADMIN_LISTEN");
	if (admin != NULL)
		buf_puts(&url, admin);
	else
		buf_printf(&url, "http://%s", env != NULL && *env != '\0' ?
		    env : "127.0.0.1:9090");
	while (url.len > 0 && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	if (strstr(buf_str(&url), "://") == NULL) {
		struct buf	 t;

		buf_init(&t);
		buf_printf(&t, "http://%s", buf_str(&url));
		buf_fini(&url);
		url = t;
	}
	buf_puts(&url, "/flush");
	if (wait_s >= 0)
		buf_printf(&url, "?wait=%ld", wait_s);
	e = curl_easy_init();
	if (e == NULL || !buf_ok(&url))
		goto out;
	curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, wait_s > 0 ? wait_s + 30 : 30L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	cc = curl_easy_perform(e);
	if (cc != CURLE_OK) {
		fprintf(stderr, "s3inval flush: %s: %s\n", buf_str(&url),
		    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	fputs(buf_str(&body), stdout);
	if (status != 200) {
		fprintf(stderr, "s3inval flush: HTTP %ld\n", status);
		goto out;
	}
	/* With --wait, success means everything is Completed. */
	rc = (wait_s > 0 && strstr(buf_str(&body), "\"done\":true") == NULL) ?
	    1 : 0;
	if (rc == 1)
		fprintf(stderr, "s3inval flush: not all Completed within %lds\n",
		    wait_s);
out:
	curl_easy_cleanup(e);
	buf_fini(&url);
	buf_fini(&body);
	return rc;
}

/* s3inval healthcheck [--admin URL]: GET /healthz, for container
 * HEALTHCHECKs (no curl or wget in the image). */
int
cmd_healthcheck(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct buf	 url;
	const char	*admin = NULL, *env;
	long		 status = 0;
	int		 ch, rc = 1;
	CURL		*e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'a') {
			fprintf(stderr, "usage: s3inval healthcheck "
			    "[--admin URL]\n");
			return 2;
		}
		admin = optarg;
	}
	buf_init(&url);
	env = getenv("S3INVAL_SERVER_ADMIN_LISTEN");
	if (admin != NULL)
		buf_puts(&url, admin);
	else
		buf_printf(&url, "http://%s", env != NULL && *env != '\0' ?
		    env : "127.0.0.1:9090");
	if (strstr(buf_str(&url), "://") == NULL) {
		struct buf	 t;

		buf_init(&t);
		buf_printf(&t, "http://%s", buf_str(&url));
		buf_fini(&url);
		url = t;
	}
	buf_puts(&url, "/healthz");
	e = curl_easy_init();
	if (e != NULL && buf_ok(&url)) {
		curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		if (curl_easy_perform(e) == CURLE_OK &&
		    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) ==
		    CURLE_OK && status == 200)
			rc = 0;
	}
	if (rc != 0)
		fprintf(stderr, "s3inval healthcheck: %s: not healthy\n",
		    buf_str(&url));
	curl_easy_cleanup(e);
	buf_fini(&url);
	return rc;
}
