package hotswap.wire;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a list of strings as one frame payload: a two-byte count, then each string as a two-byte
 * length and its UTF-8 bytes. Decoding is strict: malformed UTF-8, too many or too long strings,
 * and trailing bytes are refused.
 */
public final class Strings {
    private Strings() {
    }

    public static ByteBuffer encode(List<String> strings) {
        if (strings.size() > Protocol.MAX_STRINGS) {
            throw new IllegalArgumentException("too many strings: " + strings.size());
        }
        List<byte[]> encoded = new ArrayList<>();
        int size = 2;
        for (String s : strings) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > Protocol.MAX_STRING_BYTES) {
                throw new IllegalArgumentException("string too long: " + b.length + " bytes");
            }
            encoded.add(b);
            size += 2 + b.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putShort((short) encoded.size());
        for (byte[] b : encoded) {
            out.putShort((short) b.length).put(b);
        }
        return out.flip();
    }

    public static List<String> decode(ByteBuffer payload) throws ProtocolException {
        ByteBuffer in = payload.duplicate();
        if (in.remaining() < 2) {
            throw new ProtocolException("control message too short");
        }
        int count = in.getShort() & 0xffff;
        if (count > Protocol.MAX_STRINGS) {
            throw new ProtocolException("control message has " + count + " strings; the limit is " + Protocol.MAX_STRINGS);
        }
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (in.remaining() < 2) {
                throw new ProtocolException("control message truncated");
            }
            int length = in.getShort() & 0xffff;
            if (length > Protocol.MAX_STRING_BYTES) {
                throw new ProtocolException("argument of " + length + " bytes exceeds the limit of " + Protocol.MAX_STRING_BYTES);
            }
            if (in.remaining() < length) {
                throw new ProtocolException("control message truncated");
            }
            ByteBuffer bytes = in.slice(in.position(), length);
            in.position(in.position() + length);
            try {
                out.add(decoder.decode(bytes).toString());
            } catch (CharacterCodingException e) {
                throw new ProtocolException("argument " + (i + 1) + " is not valid UTF-8");
            }
        }
        if (in.hasRemaining()) {
            throw new ProtocolException("control message has " + in.remaining() + " trailing bytes");
        }
        return out;
    }
}
