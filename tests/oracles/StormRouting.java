// The routing oracle: what a real JVM answers for the questions Storm's routing asks.
//
// tests/routing_oracle.rs runs it with `java StormRouting.java` (single-source launch) and
// compares every answer with Tributary's routing functions. It reads commands on stdin
// and writes one answer line per command on stdout; it opens no file, no socket and
// starts no thread of its own.
//
// The groupings are written here from Storm's own formulas (storm-client 2.x):
// - fields grouping (GrouperFactory.FieldsGrouper via TupleUtils.chooseTaskIndex):
//   Math.floorMod(Arrays.deepHashCode(selected values), number of target tasks), an
//   index into the sorted target task ids;
// - partial key grouping (PartialKeyGrouping): the key bytes are each selected value's
//   hashCode as a big-endian int (null as 0), or with no fields named the first value's
//   toString().getBytes(); RandomTwoTaskAssignmentCreator seeds java.util.Random with
//   Arrays.hashCode(bytes), draws choice1 = nextInt(n) and choice2 = nextInt(n), moved to
//   (choice2 + 1) % n when equal; BalancedTargetSelector sends to the candidate this
//   grouping instance has sent to least, the first candidate on a tie.
//
// Values travel as typed tokens so nothing is lost on the way: N (null), B:true,
// L:<decimal long>, D:<hex of the double's raw bits>, S:<hex of the UTF-8 bytes>.
//
// Commands (space separated) and their answers:
//   hash V...                 Arrays.deepHashCode(new Object[]{V...})
//   random SEED N COUNT       COUNT draws of new Random(SEED).nextInt(N)
//   fields N V...             Math.floorMod(Arrays.deepHashCode(V...), N)
//   draw N V...               "seed choice1 choice2" of the partial key draw on V...
//   draw_text N V             the same with no fields named (V's text is the key)
//   pk_start MODE TASKS...    a fresh partial key grouping (MODE fields or text) over
//                             the target task ids TASKS (sorted); answers "ok"
//   pk_send V...              the task the current grouping sends V... to

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

public class StormRouting {
    static Object parse(String token) {
        if (token.equals("N")) {
            return null;
        }
        String body = token.substring(2);
        switch (token.charAt(0)) {
            case 'B':
                return Boolean.valueOf(body);
            case 'L':
                return Long.valueOf(body);
            case 'D':
                return Double.longBitsToDouble(Long.parseUnsignedLong(body, 16));
            case 'S':
                return new String(hex(body), StandardCharsets.UTF_8);
            default:
                throw new IllegalArgumentException("unknown value token " + token);
        }
    }

    static byte[] hex(String text) {
        byte[] out = new byte[text.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static Object[] values(String[] parts, int from) {
        Object[] out = new Object[parts.length - from];
        for (int i = from; i < parts.length; i++) {
            out[i - from] = parse(parts[i]);
        }
        return out;
    }

    /** The key bytes with every value a grouping field. */
    static byte[] fieldBytes(Object[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 4);
        for (Object o : values) {
            out.putInt(o == null ? 0 : o.hashCode());
        }
        return out.array();
    }

    /** The key bytes with no fields named: the first value's text. */
    static byte[] textBytes(Object[] values) {
        return values[0].toString().getBytes();
    }

    /** choice1 and choice2 among n targets, and the Random's seed. */
    static int[] draw(byte[] key, int n) {
        int seed = Arrays.hashCode(key);
        Random random = new Random((long) seed);
        int choice1 = random.nextInt(n);
        int choice2 = random.nextInt(n);
        if (choice1 == choice2) {
            choice2 = (choice2 + 1) % n;
        }
        return new int[] {seed, choice1, choice2};
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        boolean textMode = false;
        List<Integer> tasks = new ArrayList<>();
        Map<Integer, Long> sent = new HashMap<>();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] p = line.split(" ");
            switch (p[0]) {
                case "hash":
                    out.append(Arrays.deepHashCode(values(p, 1)));
                    break;
                case "random": {
                    Random random = new Random(Long.parseLong(p[1]));
                    int n = Integer.parseInt(p[2]);
                    int count = Integer.parseInt(p[3]);
                    for (int i = 0; i < count; i++) {
                        out.append(i == 0 ? "" : " ").append(random.nextInt(n));
                    }
                    break;
                }
                case "fields":
                    out.append(Math.floorMod(Arrays.deepHashCode(values(p, 2)), Integer.parseInt(p[1])));
                    break;
                case "draw":
                case "draw_text": {
                    Object[] v = values(p, 2);
                    byte[] key = p[0].equals("draw") ? fieldBytes(v) : textBytes(v);
                    int[] d = draw(key, Integer.parseInt(p[1]));
                    out.append(d[0]).append(' ').append(d[1]).append(' ').append(d[2]);
                    break;
                }
                case "pk_start":
                    textMode = p[1].equals("text");
                    tasks = new ArrayList<>();
                    for (int i = 2; i < p.length; i++) {
                        tasks.add(Integer.parseInt(p[i]));
                    }
                    sent = new HashMap<>();
                    out.append("ok");
                    break;
                case "pk_send": {
                    Object[] v = values(p, 1);
                    int[] d = draw(textMode ? textBytes(v) : fieldBytes(v), tasks.size());
                    int[] candidates = {tasks.get(d[1]), tasks.get(d[2])};
                    Integer chosen = null;
                    long least = Long.MAX_VALUE;
                    for (int task : candidates) {
                        long load = sent.getOrDefault(task, 0L);
                        if (load < least) {
                            least = load;
                            chosen = task;
                        }
                    }
                    sent.put(chosen, sent.getOrDefault(chosen, 0L) + 1);
                    out.append(chosen);
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown command " + p[0]);
            }
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }
}
