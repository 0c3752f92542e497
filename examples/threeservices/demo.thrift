/*
 * demo.thrift: the three services of the Seer example. frontend.home calls
 * users.getUser and storage.get in parallel; users.getUser calls storage.get.
 *
 * Regenerate with (from this directory):
 *   thrift -r --gen go:skip_remote,package_prefix=github.com/seer-qos/seer/examples/threeservices/ -out . demo.thrift && gofmt -w demothrift
 */

namespace go demothrift

struct User {
  1: required i64 id
  2: required string name
  3: required binary profile
}

struct Page {
  1: required User user
  2: required binary timeline
}

exception NotFound {
  1: required string key
}

/** Storage is a key-value store, the leaf of the call graph. */
service Storage {
  binary get(1: string key) throws (1: NotFound notFound)
}

/** Users resolves a user, reading its profile from Storage. */
service Users {
  User getUser(1: i64 id) throws (1: NotFound notFound)
}

/** Frontend renders a user's home page from Users and Storage. */
service Frontend {
  Page home(1: i64 user_id) throws (1: NotFound notFound)
}
