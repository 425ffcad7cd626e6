/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_credentials: the pure parts of the AWS credential chain, without
 * network.
 *
 * - credentials_json_get: the container/IMDS documents, escapes and
 *   surrogate pairs, and hostile input (every truncation of a document,
 *   duplicate names, nesting past jansson's limit, bad numbers and escapes,
 *   NULs, trailing garbage, random mutations) which must give -1, never a
 *   crash or an unterminated value.
 * - credentials_parse_json / credentials_parse_sts: answers of ECS, IMDS
 *   and STS (AWS STS API Reference, AssumeRoleWithWebIdentity example),
 *   STS errors, DTDs and entities (refused, never expanded), truncations.
 * - credentials_parse_time: ISO 8601 as STS and IMDS write it.
 * - credentials_profile_get: the shared file format (sections, comments,
 *   nested blocks, CRLF, a 1,500-character session token).
 * - credentials_select / credentials_resolve: which source wins for
 *   environment arrays, in the SDKs' order, and the errors.
 * - credentials_next_refresh: the schedule and the backoff.
 * - credentials_init/get/source/status/fini with static keys; IMDS on a
 *   closed loopback port fails fast with the "nothing found" message.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "credentials.h"

#define IMDS_DOC "{\n" \
	"  \"Code\" : \"Success\",\n" \
	"  \"LastUpdated\" : \"2026-11-27T09:00:00Z\",\n" \
	"  \"Type\" : \"AWS-HMAC\",\n" \
	"  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n" \
	"  \"SecretAccessKey\" : " \
	"\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n" \
	"  \"Token\" : \"IQoJb3JpZ2luX2VjEXAMPLETOKEN+/=\",\n" \
	"  \"Expiration\" : \"2026-11-27T10:00:00Z\"\n" \
	"}\n"

#define STS_DOC "<AssumeRoleWithWebIdentityResponse " \
	"xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n" \
	"  <AssumeRoleWithWebIdentityResult>\n" \
	"    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGX" \
	"K6HB56KR2A</SubjectFromWebIdentityToken>\n" \
	"    <Audience>client.5498841531868486423.1548@apps.example.com" \
	"</Audience>\n" \
	"    <AssumedRoleUser>\n" \
	"      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIde" \
	"ntityRole/app1</Arn>\n" \
	"      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>\n" \
	"    </AssumedRoleUser>\n" \
	"    <Credentials>\n" \
	"      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE" \
	"</SessionToken>\n" \
	"      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY" \
	"</SecretAccessKey>\n" \
	"      <Expiration>2014-10-24T23:00:23Z</Expiration>\n" \
	"      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>\n" \
	"    </Credentials>\n" \
	"    <SourceIdentity>SourceIdentityValue</SourceIdentity>\n" \
	"    <Provider>www.amazon.com</Provider>\n" \
	"  </AssumeRoleWithWebIdentityResult>\n" \
	"  <ResponseMetadata>\n" \
	"    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>\n" \
	"  </ResponseMetadata>\n" \
	"</AssumeRoleWithWebIdentityResponse>\n"

/* A writable string, as in a real environment. */
#define E(s)	((char []){ s })
#define FULL_C	E("AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/c")
#define ROLE_R	E("AWS_ROLE_ARN=arn:aws:iam::1:role/r")

static char	 tmpdir[256];

/* --- helpers ---------------------------------------------------------- */

static void
write_text(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *
tpath(const char *name)
{
	static char	 bufs[8][512];
	static int	 next;
	char		*b = bufs[next++ % 8];

	snprintf(b, 512, "%s/%s", tmpdir, name);
	return b;
}

static int
json(const char *doc, const char *name, char *out, size_t outsz)
{
	return credentials_json_get(doc, strlen(doc), name, out, outsz);
}

static enum credentials_kind
kind_of(char **env, char *desc, size_t descsz, char *err, size_t errsz)
{
	enum credentials_kind	 k;

	if (credentials_select(env, &k, desc, descsz, err, errsz) == -1)
		return (enum credentials_kind)-1;
	return k;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_credentials.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- JSON ------------------------------------------------------------- */

static void
test_json_basic(void **state)
{
	char	 v[256];

	(void)state;
	assert_int_equal(json(IMDS_DOC, "AccessKeyId", v, sizeof(v)), 1);
	assert_string_equal(v, "ASIAIOSFODNN7EXAMPLE");
	assert_int_equal(json(IMDS_DOC, "SecretAccessKey", v, sizeof(v)), 1);
	assert_string_equal(v, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_int_equal(json(IMDS_DOC, "Expiration", v, sizeof(v)), 1);
	assert_string_equal(v, "2026-11-27T10:00:00Z");
	assert_int_equal(json(IMDS_DOC, "RoleArn", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	/* Names are case-sensitive. */
	assert_int_equal(json(IMDS_DOC, "accesskeyid", v, sizeof(v)), 0);
	assert_int_equal(json("{}", "a", v, sizeof(v)), 0);
	assert_int_equal(json(" \t\r\n{ } \n", "a", v, sizeof(v)), 0);
	/* Other members of any type are skipped. */
	assert_int_equal(json("{\"n\":-1.5e+3,\"t\":true,\"f\":false,"
	    "\"z\":null,\"o\":{\"a\":[1,{\"b\":\"c\"},[]]},\"e\":[],"
	    "\"a\":\"yes\"}", "a", v, sizeof(v)), 1);
	assert_string_equal(v, "yes");
	/* A name that only appears inside a nested value is not a member. */
	assert_int_equal(json("{\"o\":{\"a\":\"no\"}}", "a", v, sizeof(v)), 0);
	/* An escaped name matches its decoded form. */
	assert_int_equal(json("{\"\\u0061\":\"x\"}", "a", v, sizeof(v)), 1);
	assert_string_equal(v, "x");
}

static void
test_json_escapes(void **state)
{
	char	 v[64];

	(void)state;
	assert_int_equal(json("{\"a\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\"}",
	    "a", v, sizeof(v)), 1);
	assert_string_equal(v, "q\"b\\s/n\nt\tr\rb\bf\f");
	assert_int_equal(json("{\"a\":\"\\u00e9\\u65e5\\ud83d\\ude00\"}", "a",
	    v, sizeof(v)), 1);
	assert_string_equal(v, "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80");
	assert_int_equal(json("{\"a\":\"\\u0041\\u00410\"}", "a", v,
	    sizeof(v)), 1);
	assert_string_equal(v, "AA0");
}

static void
test_json_hostile(void **state)
{
	static const char *const bad[] = {
		"", " ", "[]", "\"a\"", "null", "{", "}", "{\"a\"", "{\"a\":",
		"{\"a\":\"x\"", "{\"a\":\"x\",}", "{,\"a\":\"x\"}",
		"{\"a\":\"x\"}}", "{\"a\":\"x\"} x", "{\"a\":\"x\"}{}",
		"{\"a\" \"x\"}", "{a:\"x\"}", "{'a':'x'}",
		"{\"a\":\"x\",\"a\":\"y\"}",	/* duplicate: ambiguous */
		"{\"a\":1}", "{\"a\":null}", "{\"a\":[\"x\"]}", "{\"a\":{}}",
		"{\"a\":\"\\u0000\"}",		/* NUL inside a value */
		"{\"a\":\"x\\u0000y\"}",
		"{\"a\":\"\\ud800\"}",		/* lone high surrogate */
		"{\"a\":\"\\udc00\"}",		/* lone low surrogate */
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}",
		"{\"a\":\"\\\"}", "{\"a\":\"x\ny\"}", "{\"a\":\"x\ty\"}",
		"{\"b\":01,\"a\":\"x\"}", "{\"b\":1.,\"a\":\"x\"}",
		"{\"b\":-,\"a\":\"x\"}", "{\"b\":.5,\"a\":\"x\"}",
		"{\"b\":1e,\"a\":\"x\"}", "{\"b\":+1,\"a\":\"x\"}",
		"{\"b\":tru,\"a\":\"x\"}", "{\"b\":nul,\"a\":\"x\"}",
		"{\"b\":[1,],\"a\":\"x\"}", "{\"b\":[1 2],\"a\":\"x\"}",
		"{\"b\":{\"c\"},\"a\":\"x\"}", "{\"b\":{\"c\":},\"a\":\"x\"}",
		"{\"b\":\"\\q\",\"a\":\"x\"}",
	};
	static const size_t	 depths[] = { 30, 40, 2000, 3000, 100000 };
	char			 v[16], *deep;
	size_t			 i, k, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(v, 'Z', sizeof(v));
		if (json(bad[i], "a", v, sizeof(v)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(v[0], '\0');
	}
	/* Too long for the caller's buffer: refused, buffer wiped. */
	memset(v, 'Z', sizeof(v));
	assert_int_equal(json("{\"a\":\"0123456789abcdef\"}", "a", v,
	    sizeof(v)), -1);
	assert_int_equal(v[0], '\0');
	assert_int_equal(json("{\"a\":\"0123456789abcde\"}", "a", v,
	    sizeof(v)), 1);
	assert_string_equal(v, "0123456789abcde");
	/* Embedded NUL in the input is not whitespace. */
	assert_int_equal(credentials_json_get("{\"a\":\"x\"}\0", 10, "a", v,
	    sizeof(v)), -1);
	assert_int_equal(credentials_json_get("{\"a\":\"x\0\"}", 9, "a", v,
	    sizeof(v)), -1);
	/* Nesting: jansson skips a deep member up to its limit
	 * (JSON_PARSER_MAX_DEPTH, 2048 levels) and refuses one past it,
	 * without a crash either way. */
	for (k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
		n = depths[k];
		deep = calloc(1, 2 * n + 32);
		assert_non_null(deep);
		strcpy(deep, "{\"b\":");
		memset(deep + 5, '[', n);
		memset(deep + 5 + n, ']', n);
		strcat(deep, ",\"a\":\"x\"}");
		assert_int_equal(json(deep, "a", v, sizeof(v)),
		    n < JSON_PARSER_MAX_DEPTH ? 1 : -1);
		free(deep);
	}
	/* Bad arguments. */
	assert_int_equal(credentials_json_get(NULL, 0, "a", v, sizeof(v)), -1);
	assert_int_equal(credentials_json_get("{}", 2, "a", v, 0), -1);
}

static void
test_json_truncations(void **state)
{
	char	 v[256];
	size_t	 n, len = strlen(IMDS_DOC);

	(void)state;
	/* Every proper prefix that cuts into the object fails cleanly; the
	 * whole document (and with its trailing newline cut) succeeds. */
	for (n = 0; n < len; n++) {
		int rc = credentials_json_get(IMDS_DOC, n, "Token", v,
		    sizeof(v));
		if (n >= len - 1)
			assert_int_equal(rc, 1);
		else
			assert_int_equal(rc, -1);
	}
}

static void
test_json_fuzz(void **state)
{
	static const char	 alphabet[] = "{}[]\":,\\u0123456789abcdefEe+-."
	    "tfn \n\x01\x7f\xff";
	char			 doc[sizeof(IMDS_DOC) + 16], v[64];
	unsigned		 seed = 12345;
	size_t			 len, i, k;
	int			 rc, iter, ones = 0;

	(void)state;
	for (iter = 0; iter < 50000; iter++) {
		memcpy(doc, IMDS_DOC, sizeof(IMDS_DOC));
		len = sizeof(IMDS_DOC) - 1;
		seed = seed * 1103515245u + 12345u;
		k = 1 + (seed >> 16) % 4;
		for (i = 0; i < k; i++) {
			seed = seed * 1103515245u + 12345u;
			doc[(seed >> 8) % len] =
			    alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
		}
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 3 == 0)
			len = (seed >> 4) % len;
		memset(v, 'Z', sizeof(v));
		rc = credentials_json_get(doc, len, "AccessKeyId", v,
		    sizeof(v));
		assert_true(rc >= -1 && rc <= 1);
		assert_non_null(memchr(v, '\0', sizeof(v)));
		if (rc != 1)
			assert_int_equal(v[0], '\0');
		else
			ones++;
	}
	/* Most mutations hit other bytes than the key's. */
	assert_true(ones > 1000);
}

/* --- container / IMDS documents --------------------------------------- */

static void
test_parse_json(void **state)
{
	struct credentials	 c;
	char			 err[256], doc[256];
	int64_t			 t;

	(void)state;
	assert_int_equal(credentials_parse_json(IMDS_DOC, strlen(IMDS_DOC), &c,
	    err, sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	assert_string_equal(c.secret_access_key,
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_string_equal(c.session_token, "IQoJb3JpZ2luX2VjEXAMPLETOKEN+/=");
	assert_int_equal(credentials_parse_time("2026-11-27T10:00:00Z", &t), 0);
	assert_int_equal(c.expiration, t);

	/* ECS answer: no Code; a FULL_URI endpoint may give long-term keys
	 * (no Token, no Expiration). */
	snprintf(doc, sizeof(doc), "{\"AccessKeyId\":\"AKID1\","
	    "\"SecretAccessKey\":\"s/k+1\",\"RoleArn\":\"arn:aws:iam::1:"
	    "role/r\"}");
	assert_int_equal(credentials_parse_json(doc, strlen(doc), &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.secret_access_key, "s/k+1");
	assert_string_equal(c.session_token, "");
	assert_int_equal(c.expiration, 0);

#define BAD(doc, why) do {						\
	memset(&c, 'Z', sizeof(c));					\
	assert_int_equal(credentials_parse_json(doc, strlen(doc), &c, err, \
	    sizeof(err)), -1);						\
	assert_non_null(strstr(err, why));				\
	assert_int_equal(c.secret_access_key[0], '\0');			\
} while (0)
	BAD("{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\","
	    "\"SecretAccessKey\":\"S\"}", "AssumeRoleUnauthorizedAccess");
	BAD("{\"AccessKeyId\":\"A\"}", "SecretAccessKey");
	BAD("{\"SecretAccessKey\":\"S\"}", "AccessKeyId");
	BAD("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":"
	    "\"tomorrow\"}", "ISO 8601");
	BAD("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":5}",
	    "JSON");
	BAD("{\"AccessKeyId\":\"A/B\",\"SecretAccessKey\":\"S\"}",
	    "access key id");
	BAD("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":"
	    "\"a b\"}", "session token");
	BAD("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":"
	    "\"a\\r\\nX-Evil: 1\"}", "session token");
	BAD("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\"}", "secret");
	BAD("<html>502</html>", "JSON");
#undef BAD
}

/* --- STS --------------------------------------------------------------- */

static void
test_parse_sts(void **state)
{
	struct credentials	 c;
	char			 err[256], doc[4096];
	size_t			 n, len = strlen(STS_DOC);
	int64_t			 t;

	(void)state;
	assert_int_equal(credentials_parse_sts(STS_DOC, len, &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
	assert_string_equal(c.secret_access_key,
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	assert_string_equal(c.session_token,
	    "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
	assert_int_equal(credentials_parse_time("2014-10-24T23:00:23Z", &t), 0);
	assert_int_equal(c.expiration, t);

	/* Every truncation fails (no document, or an incomplete one). */
	for (n = 0; n < len - 40; n++)
		assert_int_equal(credentials_parse_sts(STS_DOC, n, &c, err,
		    sizeof(err)), -1);

	/* An STS error names its code and message. */
	snprintf(doc, sizeof(doc), "<ErrorResponse xmlns=\"https://sts.amazon"
	    "aws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>"
	    "InvalidIdentityToken</Code><Message>Couldn't retrieve verification"
	    " key from your identity provider</Message></Error><RequestId>x"
	    "</RequestId></ErrorResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "InvalidIdentityToken: Couldn't"));

	/* CDATA and comments are text; an element inside is not. */
	snprintf(doc, sizeof(doc), "<AssumeRoleWithWebIdentityResponse><Assume"
	    "RoleWithWebIdentityResult><Credentials><AccessKeyId><![CDATA[AK]]>"
	    "<!-- c -->ID</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
	    "<SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z"
	    "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "AKID");

	/* DTDs are refused before parsing: no entity expansion, no fetch. */
	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?><!DOCTYPE a [<!EN"
	    "TITY x SYSTEM \"file:///etc/passwd\">]><AssumeRoleWithWebIdentity"
	    "Response><AssumeRoleWithWebIdentityResult><Credentials><AccessKey"
	    "Id>&x;</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
	    "<SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z"
	    "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "DTD"));
	/* The predefined &amp; is just an escaped '&'; an undeclared
	 * entity is not well-formed. */
	snprintf(doc, sizeof(doc), "<AssumeRoleWithWebIdentityResponse><Assume"
	    "RoleWithWebIdentityResult><Credentials><AccessKeyId>A&amp;B"
	    "</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T"
	    "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
	    "</Credentials></AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "A&B");
	snprintf(doc, sizeof(doc), "<AssumeRoleWithWebIdentityResponse><Assume"
	    "RoleWithWebIdentityResult><Credentials><AccessKeyId>&x;"
	    "</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T"
	    "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
	    "</Credentials></AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), -1);

	/* Wrong root, missing members, garbage. */
	snprintf(doc, sizeof(doc), "<AssumeRoleResponse><AssumeRoleWithWeb"
	    "IdentityResult><Credentials><AccessKeyId>A</AccessKeyId>"
	    "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
	    "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
	    "</AssumeRoleWithWebIdentityResult></AssumeRoleResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), -1);
	snprintf(doc, sizeof(doc), "<AssumeRoleWithWebIdentityResponse><Assume"
	    "RoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKey"
	    "Id><SecretAccessKey>S</SecretAccessKey><Expiration>2030-01-01T00:"
	    "00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentity"
	    "Result></AssumeRoleWithWebIdentityResponse>");
	assert_int_equal(credentials_parse_sts(doc, strlen(doc), &c, err,
	    sizeof(err)), -1);
	assert_int_equal(credentials_parse_sts("\x01\x02garbage", 9, &c, err,
	    sizeof(err)), -1);
	assert_int_equal(credentials_parse_sts("", 0, &c, err, sizeof(err)),
	    -1);
}

/* --- time -------------------------------------------------------------- */

static void
test_parse_time(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 t;	/* -1: refused */
	} rows[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-27T10:00:00Z", 1795773600 },
		{ "2026-11-27T10:00:00.123Z", 1795773600 },
		{ "2026-11-27T10:00:00.000000Z", 1795773600 },
		{ "2026-11-27T12:00:00+02:00", 1795773600 },
		{ "2026-11-27T09:30:00-0030", 1795773600 },
		{ "2026-11-27t10:00:00z", 1795773600 },
		{ "2000-02-29T00:00:00Z", 951782400 },
		{ "2038-01-19T03:14:08Z", 2147483648LL },
		{ "9999-12-31T23:59:59Z", 253402300799LL },
		{ "2026-11-27T10:00:00", -1 },		/* no zone */
		{ "2026-11-27 10:00:00Z", -1 },
		{ "2026-11-27T10:00Z", -1 },
		{ "2026-13-01T00:00:00Z", -1 },
		{ "2026-02-29T00:00:00Z", -1 },		/* not a leap year */
		{ "1900-02-29T00:00:00Z", -1 },
		{ "2026-04-31T00:00:00Z", -1 },
		{ "2026-11-27T24:00:00Z", -1 },
		{ "2026-11-27T10:60:00Z", -1 },
		{ "2026-11-27T10:00:61Z", -1 },
		{ "1969-12-31T23:59:59Z", -1 },
		{ "2026-11-27T10:00:00.Z", -1 },
		{ "2026-11-27T10:00:00+2:00", -1 },
		{ "2026-11-27T10:00:00+24:00", -1 },
		{ "2026-11-27T10:00:00Zjunk", -1 },
		{ "+2026-11-27T10:00:00Z", -1 },
		{ "", -1 },
		{ "2026", -1 },
		{ "1795773600", -1 },
	};
	size_t		 i;
	int64_t		 t;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		t = 42;
		if (rows[i].t == -1) {
			if (credentials_parse_time(rows[i].s, &t) != -1)
				fail_msg("accepted %s", rows[i].s);
			assert_int_equal(t, 42);
		} else {
			if (credentials_parse_time(rows[i].s, &t) != 0)
				fail_msg("refused %s", rows[i].s);
			assert_int_equal(t, rows[i].t);
		}
	}
	assert_int_equal(credentials_parse_time(NULL, &t), -1);
}

/* --- profile files ------------------------------------------------------ */

static void
test_profile_get(void **state)
{
	const char	*text =
	    "# comment\n"
	    "; also a comment\n"
	    "[default]\n"
	    "aws_access_key_id = AKIDDEFAULT\n"
	    "aws_secret_access_key=secretdefault  \r\n"
	    "\n"
	    "[profile   work ]\n"
	    "region = eu-west-1\n"
	    "s3 =\n"
	    "  aws_access_key_id = NESTED\n"
	    "  max_concurrent_requests = 20\n"
	    "AWS_Access_Key_Id = AKIDWORK\n"
	    "aws_secret_access_key = a=b=c\n"
	    "aws_access_key_id = AKIDWORK2\n"
	    "[work]\n"
	    "aws_access_key_id = NOTTHISONE\n"
	    "[broken\n"
	    "aws_access_key_id = BROKEN\n"
	    "[last]\n"
	    "  aws_access_key_id = INDENTED\n"
	    "aws_session_token =";
	char		 v[64];
	size_t		 n = strlen(text);

	(void)state;
#define GET(sec, key) credentials_profile_get(text, n, sec, key, v, sizeof(v))
	assert_int_equal(GET("default", "aws_access_key_id"), 1);
	assert_string_equal(v, "AKIDDEFAULT");
	assert_int_equal(GET("default", "aws_secret_access_key"), 1);
	assert_string_equal(v, "secretdefault");
	assert_int_equal(GET("default", "aws_session_token"), 0);
	assert_string_equal(v, "");
	/* Blanks in the header collapse; the last value wins; nested
	 * blocks are not top-level keys; keys are case-insensitive. */
	assert_int_equal(GET("profile work", "aws_access_key_id"), 1);
	assert_string_equal(v, "AKIDWORK2");
	assert_int_equal(GET("profile work", "aws_secret_access_key"), 1);
	assert_string_equal(v, "a=b=c");
	assert_int_equal(GET("profile work", "max_concurrent_requests"), 0);
	assert_int_equal(GET("work", "aws_access_key_id"), 1);
	assert_string_equal(v, "NOTTHISONE");
	assert_int_equal(GET("profile Work", "aws_access_key_id"), 0);
	assert_int_equal(GET("broken", "aws_access_key_id"), 0);
	/* An indented first line is a key; a last line without newline. */
	assert_int_equal(GET("last", "aws_access_key_id"), 1);
	assert_string_equal(v, "INDENTED");
	assert_int_equal(GET("last", "aws_session_token"), 1);
	assert_string_equal(v, "");
	assert_int_equal(credentials_profile_get(text, n, "default", NULL, NULL,
	    0), 1);
	assert_int_equal(credentials_profile_get(text, n, "nope", NULL, NULL,
	    0), 0);
	/* Too long for the buffer. */
	assert_int_equal(credentials_profile_get(text, n, "default",
	    "aws_access_key_id", v, 11), -1);
	assert_int_equal(credentials_profile_get(text, n, "default",
	    "aws_access_key_id", v, 12), 1);
	assert_int_equal(credentials_profile_get("", 0, "default", "k", v,
	    sizeof(v)), 0);
#undef GET
}

/* --- which source ------------------------------------------------------- */

/* The files the selection tests read. */
static void
write_fixtures(void)
{
	write_text(tpath("token"), "eyJhbGciOiJSUzI1NiJ9.payload.sig\n");
	write_text(tpath("credentials"), "[default]\naws_access_key_id = "
	    "AKIDFILE\naws_secret_access_key = filesecret\n");
	write_text(tpath("config"), "[profile wi]\nrole_arn = arn:aws:iam::1:"
	    "role/wi\nweb_identity_token_file = /var/run/token\n"
	    "[profile proc]\ncredential_process = /bin/true\n"
	    "[profile half]\naws_access_key_id = AKIDHALF\n");
}

static void
test_select_order(void **state)
{
	char			 desc[200], err[600];
	char			 tf[600], ce[600], cf[600], ha[600], hb[600];

	(void)state;
	write_fixtures();
	snprintf(tf, sizeof(tf), "AWS_WEB_IDENTITY_TOKEN_FILE=%s",
	    tpath("token"));
	snprintf(ce, sizeof(ce), "AWS_SHARED_CREDENTIALS_FILE=%s",
	    tpath("credentials"));
	snprintf(cf, sizeof(cf), "AWS_CONFIG_FILE=%s", tpath("config"));
	snprintf(ha, sizeof(ha), "HOME=%s", tpath("nohome"));
	snprintf(hb, sizeof(hb), "AWS_SHARED_CREDENTIALS_FILE=%s",
	    tpath("missing"));

	{
		/* Everything configured: the environment wins. */
		char *env[] = { E("AWS_ACCESS_KEY_ID=AKIDENV"),
		    E("AWS_SECRET_ACCESS_KEY=envsecret"), ce, cf, tf,
		    ROLE_R, FULL_C, NULL };
		assert_int_equal(kind_of(env, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_ENV);
		assert_string_equal(desc, "environment");
	}
	{
		/* Without the environment: the credentials file. */
		char *env[] = { ce, cf, tf, ROLE_R, FULL_C, NULL };
		assert_int_equal(kind_of(env, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_PROFILE);
		assert_string_equal(desc, "profile default");
	}
	{
		/* Then web identity. */
		char *env[] = { hb, cf, tf, ROLE_R, FULL_C, NULL };
		assert_int_equal(kind_of(env, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_WEB_IDENTITY);
		assert_non_null(strstr(desc, "arn:aws:iam::1:role/r"));
	}
	{
		/* Web identity needs both variables: then the container, and
		 * RELATIVE_URI wins over FULL_URI. */
		char *env[] = { hb, cf, tf,
		    FULL_C,
		    E("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="
		    "/v2/credentials/x"),
		    NULL };
		assert_int_equal(kind_of(env, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_CONTAINER);
		assert_string_equal(desc,
		    "container http://169.254.170.2/v2/credentials/x");
	}
	{
		/* Nothing: IMDS, on its default or configured endpoint. */
		char *env[] = { ha, NULL };
		char *env6[] = { ha,
		    E("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6"), NULL };
		char *envx[] = { ha, E("AWS_EC2_METADATA_SERVICE_ENDPOINT="
		    "http://127.0.0.1:9/"), NULL };
		char *envd[] = { ha, E("AWS_EC2_METADATA_DISABLED=TRUE"),
		    E("AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9/"),
		    NULL };
		assert_int_equal(kind_of(env, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_IMDS);
		assert_string_equal(desc, "EC2 IMDS http://169.254.169.254");
		assert_int_equal(kind_of(env6, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_IMDS);
		assert_string_equal(desc, "EC2 IMDS http://[fd00:ec2::254]");
		assert_int_equal(kind_of(envx, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_IMDS);
		assert_string_equal(desc, "EC2 IMDS http://127.0.0.1:9");
		assert_int_equal((int)kind_of(envd, desc, sizeof(desc), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "no AWS credentials found"));
		assert_non_null(strstr(err, "AWS_EC2_METADATA_DISABLED"));
	}
	{
		/* A profile with a web identity (config file). */
		char *env[] = { hb, cf, E("AWS_PROFILE=wi"),
		    E("AWS_ENDPOINT_URL_STS=http://127.0.0.1:5/"), NULL };
		assert_int_equal(kind_of(env, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_WEB_IDENTITY);
		assert_non_null(strstr(desc, "profile wi"));
	}
}

static void
test_select_errors(void **state)
{
	char			 desc[200], err[600], cf[600], hb[600];
	enum credentials_kind	 k;
	size_t			 i;
	static const struct {
		const char	*a, *b;
		const char	*why;
	} rows[] = {
		{ "AWS_ACCESS_KEY_ID=AKID", NULL,
		  "without AWS_SECRET_ACCESS_KEY" },
		{ "AWS_SECRET_ACCESS_KEY=s", NULL,
		  "without AWS_ACCESS_KEY_ID" },
		{ "AWS_ACCESS_KEY_ID=AK/ID", "AWS_SECRET_ACCESS_KEY=s",
		  "not printable" },
		{ "AWS_PROFILE=nosuch", NULL, "no such profile" },
		{ "AWS_PROFILE=proc", NULL, "credential_process" },
		{ "AWS_PROFILE=half", NULL, "only one of" },
		{ "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/c", NULL,
		  "loopback" },
		{ "AWS_CONTAINER_CREDENTIALS_FULL_URI="
		  "http://[2001:db8::1]:80/c", NULL, "loopback" },
		{ "AWS_CONTAINER_CREDENTIALS_FULL_URI=ftp://127.0.0.1/c", NULL,
		  "http or https" },
		{ "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://u:p@127.0.0.1/c",
		  NULL, "user information" },
		{ "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=@evil.example/c",
		  NULL, "starting with '/'" },
		{ "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/c",
		  "AWS_CONTAINER_AUTHORIZATION_TOKEN=a\r\nX: y", "line break" },
		{ "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/c",
		  "AWS_CONTAINER_AUTHORIZATION_TOKEN=a\x01b", "control" },
		{ "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/c",
		  "AWS_CONTAINER_AUTHORIZATION_TOKEN=Bearer a b", NULL },
		{ "AWS_WEB_IDENTITY_TOKEN_FILE=/t",
		  "AWS_ROLE_ARN=arn:aws:iam::1:role/r", NULL },	/* fine */
		{ "AWS_EC2_METADATA_SERVICE_ENDPOINT=169.254.169.254", NULL,
		  "http(s) URL" },
	};

	(void)state;
	write_fixtures();
	snprintf(cf, sizeof(cf), "AWS_CONFIG_FILE=%s", tpath("config"));
	snprintf(hb, sizeof(hb), "AWS_SHARED_CREDENTIALS_FILE=%s",
	    tpath("missing"));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *env[] = { hb, cf, (char *)rows[i].a, (char *)rows[i].b,
		    NULL };
		int rc = credentials_select(env, &k, desc, sizeof(desc), err,
		    sizeof(err));
		if (rows[i].why == NULL) {
			assert_int_equal(rc, 0);
			continue;
		}
		if (rc != -1 || strstr(err, rows[i].why) == NULL)
			fail_msg("%s: rc %d, err \"%s\"", rows[i].a, rc, err);
	}
	{
		/* Web identity: session name checked, STS endpoint chosen. */
		char *bad[] = { hb, E("AWS_WEB_IDENTITY_TOKEN_FILE=/t"),
		    ROLE_R,
		    E("AWS_ROLE_SESSION_NAME=has space"), NULL };
		char *ok[] = { hb, E("AWS_WEB_IDENTITY_TOKEN_FILE=/t"),
		    ROLE_R,
		    E("AWS_ROLE_SESSION_NAME=app-1@x.y"),
		    E("AWS_REGION=eu-west-3"), NULL };
		assert_int_equal(credentials_select(bad, &k, desc, sizeof(desc),
		    err, sizeof(err)), -1);
		assert_non_null(strstr(err, "session name"));
		assert_int_equal(credentials_select(ok, &k, desc, sizeof(desc),
		    err, sizeof(err)), 0);
	}
	{
		/* A FULL_URI host name is checked when connected; https may
		 * go anywhere. */
		char *a[] = { hb, E("AWS_CONTAINER_CREDENTIALS_FULL_URI="
		    "http://localhost:8080/creds?x=1"), NULL };
		char *b[] = { hb, E("AWS_CONTAINER_CREDENTIALS_FULL_URI="
		    "https://creds.example.com/v1"), NULL };
		char *c[] = { hb, E("AWS_CONTAINER_CREDENTIALS_FULL_URI="
		    "http://169.254.170.23/v1/credentials"), NULL };
		char *d[] = { hb, E("AWS_CONTAINER_CREDENTIALS_FULL_URI="
		    "http://[::1]:9/c"), NULL };
		assert_int_equal(kind_of(a, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_CONTAINER);
		/* The query is not shown in logs. */
		assert_string_equal(desc,
		    "container http://localhost:8080/creds");
		assert_int_equal(kind_of(b, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_CONTAINER);
		assert_int_equal(kind_of(c, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_CONTAINER);
		assert_int_equal(kind_of(d, desc, sizeof(desc), err,
		    sizeof(err)), CREDENTIALS_CONTAINER);
	}
}

static void
test_resolve_static(void **state)
{
	struct credentials	 c;
	char			 err[600], ce[700], cf[600], hb[600], home[512];
	char			*text, *tok;
	size_t			 i;

	(void)state;
	/* A 1,500-character session token (inih cut lines at 200). */
	tok = malloc(1501);
	assert_non_null(tok);
	for (i = 0; i < 1500; i++)
		tok[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="[i % 39];
	tok[1500] = '\0';
	text = malloc(2000);
	assert_non_null(text);
	snprintf(text, 2000, "[profile long]\r\n"
	    "aws_access_key_id = AKIDLONG\r\n"
	    "aws_secret_access_key = longsecret\r\n"
	    "aws_session_token = %s\r\n", tok);
	write_text(tpath("config-long"), text);
	snprintf(cf, sizeof(cf), "AWS_CONFIG_FILE=%s", tpath("config-long"));
	snprintf(hb, sizeof(hb), "AWS_SHARED_CREDENTIALS_FILE=%s",
	    tpath("missing"));
	{
		char *env[] = { hb, cf, E("AWS_PROFILE=long"), NULL };
		assert_int_equal(credentials_resolve(env, &c, err, sizeof(err)),
		    0);
		assert_string_equal(c.access_key_id, "AKIDLONG");
		assert_string_equal(c.secret_access_key, "longsecret");
		assert_string_equal(c.session_token, tok);
		assert_string_equal(c.source, "profile long");
		assert_int_equal(c.expiration, 0);
	}
	/* The default files under $HOME; the credentials file wins. */
	snprintf(home, sizeof(home), "%s", tpath("home"));
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(mkdir(tpath("home/.aws"), 0700), 0);
	write_text(tpath("home/.aws/credentials"), "[default]\n"
	    "aws_access_key_id=AKIDHOME\naws_secret_access_key=homesecret\n");
	write_text(tpath("home/.aws/config"), "[default]\n"
	    "aws_access_key_id=AKIDCONF\naws_secret_access_key=confsecret\n");
	snprintf(ce, sizeof(ce), "HOME=%s", home);
	{
		char *env[] = { ce, NULL };
		assert_int_equal(credentials_resolve(env, &c, err, sizeof(err)),
		    0);
		assert_string_equal(c.access_key_id, "AKIDHOME");
		assert_string_equal(c.session_token, "");
	}
	write_text(tpath("home/.aws/credentials"), "[other]\n");
	{
		char *env[] = { ce, NULL };
		assert_int_equal(credentials_resolve(env, &c, err, sizeof(err)),
		    0);
		assert_string_equal(c.access_key_id, "AKIDCONF");
	}
	/* "[profile default]" in the config file counts as default. */
	write_text(tpath("home/.aws/config"), "[profile default]\n"
	    "aws_access_key_id=AKIDPD\naws_secret_access_key=pd\n");
	{
		char *env[] = { ce, NULL };
		assert_int_equal(credentials_resolve(env, &c, err, sizeof(err)),
		    0);
		assert_string_equal(c.access_key_id, "AKIDPD");
	}
	credentials_wipe(&c);
	free(text);
	free(tok);
}

/* --- refresh schedule --------------------------------------------------- */

static void
test_next_refresh(void **state)
{
	const int64_t	 t0 = 1800000000;

	(void)state;
	/* A 20 s lifetime: refresh halfway, 10 s before expiry. */
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 20, 0), t0 + 10);
	/* An hour: 5 minutes before expiry. */
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 0),
	    t0 + 3300);
	/* 6 hours (IMDS): still 5 minutes. */
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 21600, 0),
	    t0 + 21300);
	/* No expiry: every 15 minutes. */
	assert_int_equal(credentials_next_refresh(t0, t0, 0, 0), t0 + 900);
	/* Never in the past or now. */
	assert_int_equal(credentials_next_refresh(t0 + 50, t0, t0 + 20, 0),
	    t0 + 51);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 1, 0), t0 + 1);
	/* Failures: 1, 2, 4, ... 60 s when expiry is far. */
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 1),
	    t0 + 1);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 2),
	    t0 + 2);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 3),
	    t0 + 4);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 6),
	    t0 + 32);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 7),
	    t0 + 60);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 3600, 1000),
	    t0 + 60);
	/* Close to expiry: a quarter of what is left, at least 1 s. */
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 20, 5), t0 + 5);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 + 2, 5), t0 + 1);
	/* Expired already: backoff up to 5 s; no expiry: plain backoff. */
	assert_int_equal(credentials_next_refresh(t0, t0, t0 - 5, 3), t0 + 4);
	assert_int_equal(credentials_next_refresh(t0, t0, t0 - 5, 4), t0 + 5);
	assert_int_equal(credentials_next_refresh(t0, t0, t0, 9), t0 + 5);
	assert_int_equal(credentials_next_refresh(t0, t0, 0, 7), t0 + 60);
}

/* --- the installed set -------------------------------------------------- */

static void
test_init_static(void **state)
{
	struct credentials		 c;
	struct credentials_status	 st;
	char				 err[600], src[64];
	char *env[] = { E("AWS_ACCESS_KEY_ID=AKIDINIT0001"),
	    E("AWS_SECRET_ACCESS_KEY=initsecret"), E("AWS_SESSION_TOKEN=tok"),
	    NULL };

	(void)state;
	credentials_fini();		/* before init: harmless */
	assert_int_equal(credentials_get(&c), -1);
	assert_int_equal(credentials_source(src, sizeof(src)),
	    CREDENTIALS_NONE);
	assert_string_equal(src, "");
	assert_int_equal(credentials_init(env, err, sizeof(err)), 0);
	assert_int_equal(credentials_get(&c), 0);
	assert_string_equal(c.access_key_id, "AKIDINIT0001");
	assert_string_equal(c.session_token, "tok");
	assert_string_equal(c.source, "environment");
	assert_int_equal(credentials_source(src, sizeof(src)),
	    CREDENTIALS_ENV);
	assert_string_equal(src, "environment");
	assert_int_equal(credentials_status(&st), 0);
	assert_string_equal(st.access_key_id, "AKIDINIT0001");
	assert_int_equal(st.next_refresh, 0);
	assert_string_equal(credentials_kind_name(st.kind), "environment");
	/* Init again replaces the set. */
	assert_int_equal(credentials_init(env, err, sizeof(err)), 0);
	credentials_fini();
	assert_int_equal(credentials_get(&c), -1);
	assert_int_equal(c.access_key_id[0], '\0');
	assert_int_equal(credentials_status(&st), -1);
}

static void
test_init_imds_unreachable(void **state)
{
	char		 err[1024], ha[600];
	struct timespec	 a, b;
	double		 dt;
	char *env[] = { ha, E("AWS_SHARED_CREDENTIALS_FILE=/nonexistent/c"),
	    E("AWS_CONFIG_FILE=/nonexistent/c"),
	    E("AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1"), NULL };

	(void)state;
	snprintf(ha, sizeof(ha), "HOME=%s", tpath("nohome"));
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(credentials_init(env, err, sizeof(err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	dt = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(dt < 3.0);
	assert_non_null(strstr(err, "no AWS credentials found"));
	assert_non_null(strstr(err, "EC2 IMDS http://127.0.0.1:1"));
	credentials_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_basic),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_json_truncations),
		cmocka_unit_test(test_json_fuzz),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_parse_sts),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_profile_get),
		cmocka_unit_test(test_select_order),
		cmocka_unit_test(test_select_errors),
		cmocka_unit_test(test_resolve_static),
		cmocka_unit_test(test_next_refresh),
		cmocka_unit_test(test_init_static),
		cmocka_unit_test(test_init_imds_unreachable),
	};

	return cmocka_run_group_tests_name("credentials", tests, setup,
	    teardown);
}
