// Package atomicfile writes files and directories so that a reader (or a
// process restarted after kill -9 or a power loss) sees either the previous
// complete version or the new complete version, never a partial one.
//
// WriteFile follows the usual POSIX recipe (as in renameio and SQLite's
// journal handling): write a temporary file in the target's directory,
// fsync it, rename it over the target (rename is atomic within a file
// system), then fsync the directory so that the rename itself is durable.
// A failed write (a full disk, a quota) removes the temporary file, so no
// empty or half-written target ever appears. Writer is the same recipe as
// a stream (Create, Write, Commit or Abort), for output built as it is
// written. WriteFiles writes a set of files that belong together (a
// report in several formats): all are written and synced under temporary
// names first, then renamed, so a full disk leaves the whole set as it was.
//
// WriteDir builds a whole directory under a temporary name beside the
// target, fsyncs its files and itself, then swaps it in: the previous
// version, if any, is first renamed aside to "<dir>.old-*", the new one
// renamed into place, and only then is the old one removed. If the process
// dies between the two renames the target is briefly absent but the old
// version is still complete on disk under its aside name; RecoverDir
// restores it. Temporary names start with "." and end in ".tmp-*" so that
// directory listings can skip them.
package atomicfile
