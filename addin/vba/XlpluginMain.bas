Attribute VB_Name = "XlpluginMain"
' xlplugin.xlam: the ribbon tab (customUI/customUI14.xml for Excel 2010+, customUI/customUI.xml
' for Excel 2007). Every button's onAction is XlpluginRibbon; it passes the button's id
' (btnValidate, btnClear, btnTemplate, btnAbout) to Python unchanged:
'     xlplugin.excel.ribbon.on_ribbon(control_id)
' which runs the handler on xw.Book.caller() (the active workbook) and shows its message.
'
' Configuration: the user's config file, read by GetConfig in the module "xlwings" (xlwings' custom
' add-in code, PROJECT_NAME = "xlplugin"):
'     Windows: %USERPROFILE%\.xlplugin\xlplugin.conf
'     macOS:   xlplugin.conf in Excel's sandbox home, ~/Library/Containers/com.microsoft.Excel/Data/
' one "KEY","VALUE" pair per line, read in the ANSI code page. addin/build.py documents every key.
'     XLPLUGIN_SERVER_URL empty or missing: the local Python (INTERPRETER_WIN / INTERPRETER_MAC)
'         runs on_ribbon through xlwings' RunPython.
'     XLPLUGIN_SERVER_URL set (e.g. http://127.0.0.1:8000/xlplugin): the workbook is posted to
'         <XLPLUGIN_SERVER_URL>/<button id> through xlwings' RunServerPython, which applies the
'         actions the server returns (AUTH, TIMEOUT, PROXY_* and the other RunServerPython keys apply).
'
' This source is kept ASCII (the project's code page is 1252): Chinese text is written as decimal
' UTF-16 code points and built with ChrW (see ChineseText).
Option Explicit

Public Const XLPLUGIN_SERVER_URL_KEY As String = "XLPLUGIN_SERVER_URL"

' The ribbon callback (onAction="XlpluginRibbon" on every button).
Public Sub XlpluginRibbon(control As IRibbonControl)
    XlpluginRun control.ID
End Sub

' Runs one button; callable without the ribbon too: Application.Run "XlpluginRun", "btnAbout"
Public Sub XlpluginRun(ByVal controlId As String)
    Dim serverUrl As String

    If Not IsButtonId(controlId) Then
        Exit Sub
    End If
    If ActiveWorkbook Is Nothing Then
        If controlId = "btnTemplate" Then
            Workbooks.Add
        Else
            ' "Please open the workbook to check first." / "Final accounts check"
            MsgBox ChineseText("35831 20808 25171 24320 35201 26657 39564 30340 24037 20316 31807 12290"), _
                   vbInformation, ChineseText("20915 31639 26657 39564")
            Exit Sub
        End If
    End If

    serverUrl = Trim$(GetConfig(XLPLUGIN_SERVER_URL_KEY, ""))
    If serverUrl = "" Then
        RunPython "import xlplugin.excel.ribbon as r; r.on_ribbon('" & controlId & "')"
    Else
        If Right$(serverUrl, 1) = "/" Then
            serverUrl = Left$(serverUrl, Len(serverUrl) - 1)
        End If
        RunServerPython serverUrl & "/" & controlId
    End If
End Sub

' A ribbon id is ASCII letters, digits and underscores: nothing else reaches the Python command line.
Private Function IsButtonId(ByVal controlId As String) As Boolean
    Dim i As Long
    Dim c As String
    If Len(controlId) = 0 Then
        Exit Function
    End If
    For i = 1 To Len(controlId)
        c = Mid$(controlId, i, 1)
        If Not (c Like "[A-Za-z0-9_]") Then
            Exit Function
        End If
    Next i
    IsButtonId = True
End Function

' Text from space-separated decimal UTF-16 code points, e.g. "20915 31639" -> two Chinese characters.
Private Function ChineseText(ByVal codePoints As String) As String
    Dim parts() As String
    Dim i As Long
    parts = Split(codePoints, " ")
    For i = LBound(parts) To UBound(parts)
        ChineseText = ChineseText & ChrW(CLng(parts(i)))
    Next i
End Function
