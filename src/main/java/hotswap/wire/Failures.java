package hotswap.wire;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;

/**
 * Words for an exception in a user's {@code ERROR:} line, on either side of the socket. Many of
 * the JDK's file exceptions carry only a path as their message (a {@link NoSuchFileException}
 * says "/srv/db", nothing more), and some exceptions carry none: printed as they are, they make
 * "ERROR: /srv/db" or "ERROR: null".
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Failures {
    private Failures() {
    }

    /** What happened, with the file it happened to where there is one; never null or a bare path. */
    public static String describe(Throwable e) {
        if (e instanceof FileSystemException f) {
            String where = f.getFile() == null ? "" : f.getOtherFile() == null ? f.getFile() + ": "
                    : f.getFile() + " -> " + f.getOtherFile() + ": ";
            return where + (f.getReason() != null ? f.getReason() : reasonOf(f));
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.toString() : message;
    }

    /** What the exception's kind says, for the file exceptions the JDK throws without a reason. */
    private static String reasonOf(FileSystemException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        } else if (e instanceof AccessDeniedException) {
            return "permission denied";
        } else if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        } else if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        } else if (e instanceof NotDirectoryException) {
            return "not a directory";
        } else if (e instanceof NotLinkException) {
            return "not a symbolic link";
        } else if (e instanceof FileSystemLoopException) {
            return "too many levels of symbolic links";
        }
        return e.getClass().getSimpleName();
    }
}
