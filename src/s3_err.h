/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_err: the errors s3inval answers itself, generated from
 * s3_err_table.h so that names, HTTP statuses and S3 codes cannot drift,
 * and the S3 <Error> XML document for one of them.  Pure.
 */
#ifndef S3I_S3_ERR_H
#define S3I_S3_ERR_H

#include "buf.h"

enum s3_err {
	S3_OK = 0,
#define S3E(name, status, code, retry, msg) S3_ERR_##name,
#include "s3_err_table.h"
#undef S3E
	S3_ERR__COUNT
};

/* Extra elements S3 adds to some errors (SignatureDoesNotMatch). */
struct s3_err_extra {
	const char	*name;		/* element name */
	const char	*value;		/* text, escaped by s3_err_xml */
};

unsigned	 s3_err_status(enum s3_err);
const char	*s3_err_code(enum s3_err);
const char	*s3_err_message(enum s3_err);
int		 s3_err_is_retryable(enum s3_err);

/*
 * <?xml ...?><Error><Code/><Message/>[extras]<Resource/><RequestId/></Error>
 * message NULL = the table's default.
 */
int	s3_err_xml(struct buf *, enum s3_err, const char *message,
	    const char *resource, const char *request_id,
	    const struct s3_err_extra *extras, size_t n_extras);

/* Append s with &, <, >, ", ' escaped for XML text; control bytes but
 * tab, CR and LF dropped. */
int	s3_xml_escape(struct buf *, const char *s);

#endif
