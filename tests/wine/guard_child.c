/* A Windows test program for tests/wine/guard.sh: how a process takes reaper's graceful step.
 * Every line it logs goes to LOG (appended, one line per event, with its pid).
 *   guard_child console LOG TOKEN DEPTH  a console process: logs "break PID" on Ctrl+Break (or
 *                                        Ctrl+C) and exits 7; starts DEPTH more levels first
 *   guard_child ignore LOG TOKEN DEPTH   the same, but ignores console events (logs "ignored")
 *   guard_child window LOG TOKEN         a visible top-level window: logs "close PID" on WM_CLOSE
 *                                        and exits 5; logs "nowindow" and exits 9 if none can
 *                                        be created
 *   guard_child exit-after MS TOKEN      sleeps MS milliseconds, then exits 0 (an anchor)
 *   guard_child probe LOG TOKEN          whether this system delivers CTRL_BREAK_EVENT to a
 *                                        console group: starts "console" in a new group, sends
 *                                        it the event; exits 0 if it took it, else 3 (logs
 *                                        "probe-error N" with GetLastError)
 * TOKEN only marks the command line, so that the test finds its own processes. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static const char *log_path;
static int ignore_events;

static void log_line(const char *what) {
    FILE *f = fopen(log_path, "a");
    if (f) {
        fprintf(f, "%s %lu\n", what, (unsigned long)GetCurrentProcessId());
        fclose(f);
    }
}

static BOOL WINAPI on_ctrl(DWORD ev) {
    if (ev != CTRL_BREAK_EVENT && ev != CTRL_C_EVENT) return FALSE;
    if (ignore_events) {
        log_line("ignored");
        return TRUE;
    }
    log_line("break");
    ExitProcess(7);
    return TRUE;
}

static LRESULT CALLBACK wnd_proc(HWND w, UINT m, WPARAM wp, LPARAM lp) {
    if (m == WM_CLOSE) {
        log_line("close");
        ExitProcess(5);
    }
    return DefWindowProcA(w, m, wp, lp);
}

/* Starts the next level: the same program, DEPTH - 1, same console (and, unless FLAGS say
 * otherwise, process group). Returns the process handle, or NULL. */
static HANDLE start_child(const char *mode, const char *token, int depth, DWORD flags, DWORD *pid) {
    char exe[MAX_PATH], cmd[2 * MAX_PATH + 256];
    STARTUPINFOA si = {sizeof si};
    PROCESS_INFORMATION pi;
    GetModuleFileNameA(NULL, exe, sizeof exe);
    snprintf(cmd, sizeof cmd, "\"%s\" %s \"%s\" %s %d", exe, mode, log_path, token, depth - 1);
    if (!CreateProcessA(exe, cmd, NULL, NULL, FALSE, flags, NULL, NULL, &si, &pi)) {
        log_line("nochild");
        return NULL;
    }
    CloseHandle(pi.hThread);
    if (pid) *pid = pi.dwProcessId;
    return pi.hProcess;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "exit-after")) {
        Sleep((DWORD)atoi(argv[2]));
        return 0;
    }
    log_path = argv[2];
    if (!strcmp(mode, "console") || !strcmp(mode, "ignore")) {
        int depth = argc > 4 ? atoi(argv[4]) : 0;
        ignore_events = !strcmp(mode, "ignore");
        /* A process created with CREATE_NEW_PROCESS_GROUP starts with Ctrl+C disabled; a
         * handler still gets Ctrl+Break. */
        SetConsoleCtrlHandler(on_ctrl, TRUE);
        if (depth > 0) {
            HANDLE h = start_child(mode, argv[3], depth, 0, NULL);
            if (h) CloseHandle(h);
        }
        log_line("ready");
        for (;;) Sleep(INFINITE);
    }
    if (!strcmp(mode, "probe")) {
        DWORD pid = 0;
        HANDLE h = start_child("console", argv[3], 1, CREATE_NEW_PROCESS_GROUP, &pid);
        if (!h) return 4;
        Sleep(1000); /* no event says its handler is installed */
        int took = 0;
        if (GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid)) {
            took = WaitForSingleObject(h, 5000) == WAIT_OBJECT_0;
        } else {
            char what[64];
            snprintf(what, sizeof what, "probe-error %lu", (unsigned long)GetLastError());
            log_line(what);
        }
        TerminateProcess(h, 1);
        CloseHandle(h);
        return took ? 0 : 3;
    }
    if (!strcmp(mode, "window")) {
        WNDCLASSA wc = {0};
        wc.lpfnWndProc = wnd_proc;
        wc.hInstance = GetModuleHandleA(NULL);
        wc.lpszClassName = "reaper_guard_child";
        RegisterClassA(&wc);
        HWND w = CreateWindowA("reaper_guard_child", argv[3], WS_OVERLAPPEDWINDOW, 0, 0, 200, 100, NULL, NULL,
                               wc.hInstance, NULL);
        if (!w) {
            log_line("nowindow");
            return 9;
        }
        ShowWindow(w, SW_SHOW);
        log_line("ready");
        MSG msg;
        while (GetMessageA(&msg, NULL, 0, 0) > 0) {
            TranslateMessage(&msg);
            DispatchMessageA(&msg);
        }
        return 0;
    }
    return 2;
}
