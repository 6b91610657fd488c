package hotswap.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;

/**
 * Words for an exception in a user's message. Many of the JDK's file exceptions carry only a path
 * (NoSuchFileException's message is the missing path, nothing more), and some exceptions carry no
 * message at all; printed as they are, they make "ERROR: /some/path" or "ERROR: null".
 */
final class Errors {
    private Errors() {
    }

    /** What happened, with the file it happened to where there is one; never null or a bare path. */
    static String describe(Throwable e) {
        if (e instanceof FileSystemException f) {
            String where = f.getFile() == null ? "" : f.getOtherFile() == null ? f.getFile() + ": "
                    : f.getFile() + " -> " + f.getOtherFile() + ": ";
            return where + (f.getReason() != null ? f.getReason() : reason(f));
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.toString() : message;
    }

    private static String reason(FileSystemException e) {
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
