package hotswap;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Describes an exception for a user's {@code ERROR:} line. Many of the JDK's file exceptions carry
 * only a path as their message (a {@link NoSuchFileException} says "/srv/db"), and some carry none,
 * so their message alone would tell the user neither what failed nor why.
 */
final class Failures {
    private Failures() {
    }

    /** The cause in words: the file(s) involved and the reason, or the message, or the exception's kind. */
    static String describe(Throwable e) {
        if (e instanceof FileSystemException f) {
            StringBuilder b = new StringBuilder();
            if (f.getFile() != null) {
                b.append(f.getFile());
                if (f.getOtherFile() != null) {
                    b.append(" -> ").append(f.getOtherFile());
                }
                b.append(": ");
            }
            return b.append(f.getReason() != null ? f.getReason() : reasonOf(f)).toString();
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /** What the exception's kind says, for the file exceptions the JDK throws without a reason. */
    private static String reasonOf(FileSystemException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        } else if (e instanceof AccessDeniedException) {
            return "permission denied";
        } else if (e instanceof FileAlreadyExistsException) {
            return "file exists";
        } else if (e instanceof NotDirectoryException) {
            return "not a directory";
        } else if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        return e.getClass().getSimpleName();
    }
}
