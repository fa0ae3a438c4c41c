// Unity only: shuts wsbridge down (WsRuntime.Shutdown: every connection closed with 1001, the
// native background threads stopped) at the moments Unity unloads or stops managed code, so
// the editor never hangs after a recompile or when leaving play mode, and a quitting player
// says goodbye to its trainer:
// - Application.quitting (players, and the editor when play mode stops);
// - AssemblyReloadEvents.beforeAssemblyReload (editor: a recompile or entering play mode);
// - EditorApplication.playModeStateChanged with ExitingPlayMode (editor).
// The native library stays loaded in the editor process across reloads, which is why its
// threads must be stopped explicitly. Compiled only by Unity (UNITY_5_3_OR_NEWER).

#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace Wsbridge
{
    internal static class UnityLifecycle
    {
        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.SubsystemRegistration)]
        private static void RegisterQuitting()
        {
            Application.quitting -= ShutDown;
            Application.quitting += ShutDown;
        }

#if UNITY_EDITOR
        [UnityEditor.InitializeOnLoadMethod]
        private static void RegisterEditorHooks()
        {
            UnityEditor.AssemblyReloadEvents.beforeAssemblyReload -= ShutDown;
            UnityEditor.AssemblyReloadEvents.beforeAssemblyReload += ShutDown;
            UnityEditor.EditorApplication.playModeStateChanged -= OnPlayModeStateChanged;
            UnityEditor.EditorApplication.playModeStateChanged += OnPlayModeStateChanged;
        }

        private static void OnPlayModeStateChanged(UnityEditor.PlayModeStateChange change)
        {
            if (change == UnityEditor.PlayModeStateChange.ExitingPlayMode) ShutDown();
        }
#endif

        private static void ShutDown()
        {
            try
            {
                if (!WsRuntime.Shutdown(WsRuntime.AutoShutdownTimeoutMs))
                    Debug.LogWarning("wsbridge: some connections did not finish closing within " +
                                     WsRuntime.AutoShutdownTimeoutMs + " ms and were dropped");
            }
            catch (System.Exception e)
            {
                Debug.LogException(e);
            }
        }
    }
}
#endif
