/* A Windows tree that keeps growing, for the Wine test of the tree kill (tests/wine/tree.sh):
 * `spawner.exe TOKEN WIDTH DEPTH INTERVAL_MS [PIDFILE]` starts a child every INTERVAL_MS
 * milliseconds until it has WIDTH (0: no limit, it spawns until it is ended), each
 * `spawner.exe TOKEN WIDTH DEPTH-1 INTERVAL_MS`, so every process carries TOKEN; a process at
 * depth 0 starts none. Every process stays alive until it is ended. The root first writes its
 * Windows pid to PIDFILE (written whole, then renamed into place), so the test knows the root at
 * once. WIDTH 4, DEPTH 4 is 1 + 4 + 16 + 64 + 256 = 341 processes once fully grown; with a
 * long enough INTERVAL_MS the tree is still growing while it is being killed. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 5) return 2;
    int width = atoi(argv[2]), depth = atoi(argv[3]), interval = atoi(argv[4]);
    if (argc > 5) {
        char tmp[MAX_PATH];
        snprintf(tmp, sizeof tmp, "%s.tmp", argv[5]);
        FILE *f = fopen(tmp, "w");
        if (!f) return 4;
        fprintf(f, "%lu\n", (unsigned long)GetCurrentProcessId());
        if (fclose(f) != 0 || !MoveFileExA(tmp, argv[5], MOVEFILE_REPLACE_EXISTING)) return 4;
    }
    if (depth > 0) {
        char exe[MAX_PATH], cmd[2 * MAX_PATH];
        if (!GetModuleFileNameA(NULL, exe, sizeof exe)) return 3;
        snprintf(cmd, sizeof cmd, "\"%s\" %s %d %d %d", exe, argv[1], width, depth - 1, interval);
        for (int made = 0; width == 0 || made < width; made++) {
            STARTUPINFOA si = {sizeof si};
            PROCESS_INFORMATION pi;
            if (CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
                CloseHandle(pi.hThread);
                CloseHandle(pi.hProcess);
            }
            Sleep(interval);
        }
    }
    Sleep(INFINITE);
    return 0;
}
